"""Scheduling the rows that make up a patient's days: daily reminders, the end-of-trial rows, weekly explanations.

Every row is idempotent by its dedupe key, so scheduling twice plans one row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Outbox, Patient
from bot.timeplan import at_local, local_date, next_at

REMINDER_KINDS = ("reminder", "reminder_repeat", "reminder_expire")
SESSION_PROMPT_KINDS = ("during_prompt", "after_prompt", "morning_prompt", "recheck")


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
        due = at_local(day, p.exercise_time, p.timezone)
        key = reminder_key(p, day)
        payload = {"day": day.isoformat()}
        if await outbox.schedule(s, kind="reminder", due_at=due, now=now, dedupe_key=key, patient_id=p.id,
                                 chat_id=p.chat_id, payload=payload):
            return
        revived = await s.execute(
            update(Outbox).where(Outbox.dedupe_key == key, Outbox.state == outbox.CANCELLED)
            .values(state=outbox.PENDING, due_at=due, payload=payload, session_id=None, attempts=0,
                    claimed_by=None, claimed_until=None, last_error=None)
            .execution_options(synchronize_session=False))
        if revived.rowcount:
            return
        state = await s.scalar(select(Outbox.state).where(Outbox.dedupe_key == key))
        if state in (outbox.PENDING, outbox.CLAIMED):
            return  # already planned


async def schedule_enrolment_rows(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """First reminder, the end-of-trial question and its expiry, and the first weekly explanation."""
    now = rt.clock.now()
    await schedule_reminder(s, rt, p)
    notice_day = p.trial_ends_on - timedelta(days=rt.settings.trial_end_notice_days)
    await outbox.schedule(s, kind="trial_notice", due_at=at_local(notice_day, p.exercise_time, p.timezone),
                          now=now, dedupe_key=f"trial_notice:{p.id}", patient_id=p.id, chat_id=p.chat_id)
    await outbox.schedule(s, kind="trial_expire", due_at=at_local(p.trial_ends_on, "23:00", p.timezone),
                          now=now, dedupe_key=f"trial_expire:{p.id}", patient_id=p.id, chat_id=p.chat_id)
    await schedule_why(s, rt, p, now + timedelta(days=7))


async def schedule_why(s: AsyncSession, rt: Runtime, p: Patient, around: datetime) -> None:
    day = local_date(around, p.timezone)
    week = day.isocalendar()
    await outbox.schedule(s, kind="why", due_at=at_local(day, p.morning_time, p.timezone) + timedelta(minutes=5),
                          now=rt.clock.now(), dedupe_key=f"why:{p.id}:{week.year}-{week.week}",
                          patient_id=p.id, chat_id=p.chat_id)
