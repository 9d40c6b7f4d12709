"""Scheduling the rows that make up a patient's days: daily reminders, the end-of-trial rows, weekly explanations.

Every row is idempotent by its key columns (bot/storage/outbox.py:dedupe_key), so scheduling twice plans
one row; a row cancelled by a pause or a change of time does not block planning it again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Patient
from bot.timeplan import at_local, local_date, next_at

REMINDER_KINDS = ("reminder", "reminder_repeat", "reminder_expire")  # a day's reminder and what follows it
TRIAL_KINDS = ("trial_notice", "trial_expire")


def reminder_row(p: Patient, day: date) -> dict[str, Any]:
    """A patient's daily reminder for `day`: one per patient, day and chosen time (its key columns)."""
    return dict(kind="reminder", due_at=at_local(day, p.exercise_time, p.timezone), chat_id=p.chat_id,
                payload={"day": day.isoformat()}, patient_id=p.id, local_date=day, variant=p.exercise_time)


def reminder_follow_up(rt: Runtime, p: Patient, session_id: int, *, n: int, after_row: int, now: datetime,
                       snoozed: bool = False) -> dict[str, Any]:
    """What follows reminder number `n` of a day (0: the daily reminder itself; after a snooze nothing is
    repeated): the next repeat while REMINDER_REPEATS last, else the silent expiry that records the day
    as missed (one per row it follows)."""
    due = now + timedelta(minutes=rt.settings.reminder_repeat_after_minutes)
    if not snoozed and n < rt.settings.reminder_repeats:
        return dict(kind="reminder_repeat", due_at=due, chat_id=p.chat_id, payload={"n": n + 1}, patient_id=p.id,
                    session_id=session_id, variant=str(n + 1))
    return dict(kind="reminder_expire", due_at=due, chat_id=p.chat_id, patient_id=p.id, session_id=session_id,
                variant=str(after_row))


async def schedule_reminder(s: AsyncSession, rt: Runtime, p: Patient, *, after: datetime | None = None) -> None:
    """The next daily reminder at the patient's exercise time (idempotent per patient, day and time).

    A row cancelled by a pause or a change of time does not block planning it again; a day whose reminder
    at this time was already delivered moves on to the next day (the chain never stops).
    """
    now = rt.clock.now()
    first = next_at(after or now, p.exercise_time, p.timezone)
    for day in (first, first + timedelta(days=1)):
        if await outbox.schedule(s, now=now, **reminder_row(p, day)):
            return
        state = await outbox.state_of(s, "reminder", patient_id=p.id, local_date=day, variant=p.exercise_time)
        if state in (outbox.PENDING, outbox.CLAIMED):
            return  # already planned


async def schedule_trial_rows(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """The question near the end of the trial period and the period's end (one pair per period: local_date
    is the period's last day)."""
    now = rt.clock.now()
    notice_day = p.trial_ends_on - timedelta(days=rt.settings.trial_end_notice_days)
    await outbox.schedule(s, kind="trial_notice", due_at=at_local(notice_day, p.exercise_time, p.timezone),
                          now=now, patient_id=p.id, chat_id=p.chat_id, local_date=p.trial_ends_on)
    await outbox.schedule(s, kind="trial_expire", due_at=at_local(p.trial_ends_on, "23:00", p.timezone),
                          now=now, patient_id=p.id, chat_id=p.chat_id, local_date=p.trial_ends_on)


async def schedule_why(s: AsyncSession, rt: Runtime, p: Patient, around: datetime) -> None:
    """The weekly explanation of the method, in the week of `around`, 5 minutes after the morning question
    (one per patient and week: local_date is the week's Monday)."""
    day = local_date(around, p.timezone)
    monday = day - timedelta(days=day.weekday())
    await outbox.schedule(s, kind="why", due_at=at_local(day, p.morning_time, p.timezone) + timedelta(minutes=5),
                          now=rt.clock.now(), patient_id=p.id, chat_id=p.chat_id, local_date=monday)
