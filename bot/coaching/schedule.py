"""Scheduling the rows that make up a patient's days: daily reminders, the end-of-trial rows, weekly explanations.

Every row is idempotent by its dedupe key, so scheduling twice plans one row; a row cancelled by a pause
or a change of time is planned again when the same key comes back.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Patient
from bot.timeplan import at_local, local_date, next_at

REMINDER_KINDS = ("reminder", "reminder_repeat", "reminder_expire")  # a day's reminder and what follows it
TRIAL_KINDS = ("trial_notice", "trial_expire")


def reminder_key(p: Patient, day: date) -> str:
    """The dedupe key of a patient's daily reminder: one per patient, day and chosen time."""
    return f"reminder:{p.id}:{day.isoformat()}:{p.exercise_time}"


async def schedule_reminder(s: AsyncSession, rt: Runtime, p: Patient, *, after: datetime | None = None) -> None:
    """The next daily reminder at the patient's exercise time (idempotent per patient, day and time).

    A row cancelled by a pause or a change of time is planned again when the same day and time come back;
    a day whose reminder at this time was already delivered moves on to the next day (the chain never stops).
    """
    now = rt.clock.now()
    first = next_at(after or now, p.exercise_time, p.timezone)
    for day in (first, first + timedelta(days=1)):
        key = reminder_key(p, day)
        if await outbox.schedule(s, kind="reminder", due_at=at_local(day, p.exercise_time, p.timezone), now=now,
                                 dedupe_key=key, patient_id=p.id, chat_id=p.chat_id,
                                 payload={"day": day.isoformat()}, revive=True):
            return
        if await outbox.state_of(s, key) in (outbox.PENDING, outbox.CLAIMED):
            return  # already planned


async def schedule_trial_rows(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """The question near the end of the trial period and the period's end (one pair per period)."""
    now = rt.clock.now()
    notice_day = p.trial_ends_on - timedelta(days=rt.settings.trial_end_notice_days)
    period = p.trial_ends_on.isoformat()
    await outbox.schedule(s, kind="trial_notice", due_at=at_local(notice_day, p.exercise_time, p.timezone),
                          now=now, dedupe_key=f"trial_notice:{p.id}:{period}", patient_id=p.id, chat_id=p.chat_id,
                          revive=True)
    await outbox.schedule(s, kind="trial_expire", due_at=at_local(p.trial_ends_on, "23:00", p.timezone),
                          now=now, dedupe_key=f"trial_expire:{p.id}:{period}", patient_id=p.id, chat_id=p.chat_id,
                          revive=True)


async def schedule_why(s: AsyncSession, rt: Runtime, p: Patient, around: datetime) -> None:
    """The weekly explanation of the method, in the week of `around`, 5 minutes after the morning question."""
    day = local_date(around, p.timezone)
    week = day.isocalendar()
    await outbox.schedule(s, kind="why", due_at=at_local(day, p.morning_time, p.timezone) + timedelta(minutes=5),
                          now=rt.clock.now(), dedupe_key=f"why:{p.id}:{week.year}-{week.week}",
                          patient_id=p.id, chat_id=p.chat_id, revive=True)
