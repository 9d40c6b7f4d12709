"""Changes of a patient's program state, each with what must go with it (rows to cancel, plans to move)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.schedule import schedule_reminder
from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Outbox, Patient
from bot.timeplan import at_local, local_date


async def reschedule_all(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """After a change of times, a pause/resume or reaching the patient again: drop future reminders,
    plan the next one from now."""
    await outbox.cancel(s, patient_id=p.id, kinds=("reminder",))
    if not p.paused and not p.unreachable and p.status in ("trial", "active"):
        await schedule_reminder(s, rt, p)


async def move_morning_questions(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """After a change of the morning time: pending next-morning questions move to the new time, same day."""
    rows = await s.scalars(select(Outbox).where(Outbox.patient_id == p.id, Outbox.kind == "morning_prompt",
                                                Outbox.state == outbox.PENDING))
    for row in rows:
        row.due_at = at_local(local_date(row.due_at, p.timezone), p.morning_time, p.timezone)
