"""Patients and enrolment-in-progress (signup) rows; erasure and export of one person's data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    Decision,
    Erasure,
    ExerciseSession,
    Outbox,
    Patient,
    Prompt,
    RedFlagReport,
    Signup,
)
from rules import Element


async def by_user(s: AsyncSession, telegram_user_id: int) -> Patient | None:
    return await s.scalar(select(Patient).where(Patient.telegram_user_id == telegram_user_id))


async def get(s: AsyncSession, patient_id: int) -> Patient | None:
    return await s.get(Patient, patient_id)


def levels(p: Patient) -> dict[Element, int]:
    return {Element.ROM: p.rom, Element.REPS: p.reps, Element.LOAD: p.load, Element.SPEED: p.speed}


def set_levels(p: Patient, new: dict[Element, int], raise_history: tuple[Element, ...]) -> None:
    p.rom, p.reps, p.load, p.speed = new[Element.ROM], new[Element.REPS], new[Element.LOAD], new[Element.SPEED]
    p.raise_history = [str(e) for e in raise_history]


async def signup_of(s: AsyncSession, telegram_user_id: int) -> Signup | None:
    return await s.get(Signup, telegram_user_id)


async def set_reachable(s: AsyncSession, patient_id: int, reachable: bool) -> None:
    await s.execute(update(Patient).where(Patient.id == patient_id).values(unreachable=not reachable))


async def export(s: AsyncSession, p: Patient) -> dict[str, Any]:
    """Everything stored about one patient (for /mydata)."""

    def rows(objs) -> list[dict[str, Any]]:
        return [o.model_dump(mode="json") for o in objs]

    pid = p.id
    return {
        "patient": p.model_dump(mode="json"),
        "sessions": rows(await s.scalars(select(ExerciseSession).where(ExerciseSession.patient_id == pid)
                                         .order_by(ExerciseSession.local_date))),
        "questions": rows(await s.scalars(select(Prompt).where(Prompt.patient_id == pid).order_by(Prompt.id))),
        "decisions": rows(await s.scalars(select(Decision).where(Decision.patient_id == pid)
                                          .order_by(Decision.id))),
        "red_flags": rows(await s.scalars(select(RedFlagReport).where(RedFlagReport.patient_id == pid))),
        "scheduled_messages": rows(await s.scalars(select(Outbox).where(Outbox.patient_id == pid)
                                                   .order_by(Outbox.id))),
    }


async def erase(s: AsyncSession, telegram_user_id: int, today: date) -> bool:
    """Delete everything about this person; only an anonymous count per day remains.

    That includes what is kept by Telegram id rather than patient: red-flag reports from the signup
    screening and the staff notices about their signup (keyed `staff:<event>:<telegram id>:...`).
    """
    found = False
    for stmt in (
        delete(RedFlagReport).where(RedFlagReport.telegram_user_id == telegram_user_id),
        delete(Outbox).where(Outbox.patient_id.is_(None),
                             Outbox.dedupe_key.like(f"staff:%:{telegram_user_id}:%")),
    ):
        found = bool((await s.execute(stmt)).rowcount) or found
    p = await by_user(s, telegram_user_id)
    if p is not None:
        pid = p.id
        for table in (Outbox, Decision, Prompt):
            await s.execute(delete(table).where(table.patient_id == pid))
        await s.execute(delete(ExerciseSession).where(ExerciseSession.patient_id == pid))
        await s.delete(p)
    sign = await s.get(Signup, telegram_user_id)
    if sign is not None:
        await s.delete(sign)
    if not (found or p is not None or sign is not None):
        return False
    row = await s.get(Erasure, today)
    if row is None:
        s.add(Erasure(day=today, count=1))
    else:
        row.count += 1
    return True


def new_patient(*, user_id: int, chat_id: int, data: dict[str, Any], consent_at: datetime, now: datetime,
                trial_ends_on: date, timezone: str) -> Patient:
    return Patient(
        telegram_user_id=user_id, chat_id=chat_id, nickname=data["nickname"], condition=data["condition"],
        usual_pain=data["usual_pain"], exercise_time=data["exercise_time"], morning_time=data["morning_time"],
        timezone=timezone, consent_at=consent_at, enrolled_at=now, trial_ends_on=trial_ends_on,
        raise_history=[],
    )
