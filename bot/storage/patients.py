"""Patients and enrolment-in-progress (signup) rows; erasure and export of one person's data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, false, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from bot.storage import audit
from bot.storage.db import rowcount
from bot.storage.models import (
    Erasure,
    ExerciseSession,
    Patient,
    Prompt,
    Signup,
)
from rules import Element


async def by_user(s: AsyncSession, telegram_user_id: int) -> Patient | None:
    return await s.scalar(select(Patient).where(Patient.telegram_user_id == telegram_user_id))


async def get(s: AsyncSession, patient_id: int) -> Patient | None:
    return await s.get(Patient, patient_id)


def levels(p: Patient) -> dict[Element, int]:
    return {Element.ROM: p.rom, Element.REPS: p.reps, Element.LOAD: p.load, Element.SPEED: p.speed}


def fall_risk(p: Patient) -> bool:
    """At risk of falling (a fall in the last year, or unsteady): supported variants of standing exercises."""
    return p.falls_last_year or p.unsteady


def set_levels(p: Patient, new: dict[Element, int], raise_history: tuple[Element, ...]) -> None:
    p.rom, p.reps, p.load, p.speed = new[Element.ROM], new[Element.REPS], new[Element.LOAD], new[Element.SPEED]
    p.raise_history = [str(e) for e in raise_history]


async def signup_of(s: AsyncSession, telegram_user_id: int) -> Signup | None:
    return await s.get(Signup, telegram_user_id)


# Tables about clinic staff, not patients (a clinician's row stays when they also use the coach as a patient).
STAFF_TABLES = frozenset({"clinician", "invite", "staff_input"})
# Kept as a fact, emptied of its content, when the person is erased (bot/storage/audit.py: erase_content): who
# did what to patient ID n, and when, stays; before/after values and the note or question it wrote go.
FACT_TABLES = frozenset({"audit_log"})
# copies of what the export already holds (a chart's picture kept for LINE to fetch): erased, not exported
NOT_EXPORTED = frozenset({"hosted_media"})
# What /mydata calls each table (a table not listed is exported under its own name).
EXPORT_NAMES = {"patient": "patient", "signup": "signup_in_progress", "exercise_session": "sessions",
                "prompt": "questions", "decision": "decisions", "red_flag_report": "red_flags",
                "outbox": "scheduled_messages", "inbox": "messages_being_handled",
                "audit_log": "clinic_actions", "clinic_note": "clinic_notes", "patient_question": "questions_to_clinic"}
# Erased with the rest but not "data kept about them": the inbox always holds the /delete press itself.
TRANSIENT_TABLES = frozenset({"inbox"})
PERSON_COLUMNS = ("patient_id", "telegram_user_id", "user_id", "chat_id", "sender")


def person_tables() -> list[Table]:
    """Every table holding data about a patient or a would-be patient: a patient id or a Telegram user id
    column (the patient table itself included), dependents before what they depend on. A table added
    later is covered by /mydata, /delete and the retention purge without being named here."""
    found = [table for table in SQLModel.metadata.sorted_tables
             if table.name not in STAFF_TABLES and (table.name == "patient"
                                                     or any(c in table.c for c in PERSON_COLUMNS))]
    return list(reversed(found))


def _about(table: Table, patient_id: int | None, telegram_user_id: int) -> ColumnElement[bool]:
    """The rows of `table` about this person."""
    if table.name == "patient":
        return table.c.telegram_user_id == telegram_user_id
    clauses = []
    if "patient_id" in table.c and patient_id is not None:
        clauses.append(table.c.patient_id == patient_id)
    for name in ("telegram_user_id", "user_id", "sender"):  # outbox: staff notices about a signup
        if name in table.c:
            clauses.append(table.c[name] == telegram_user_id)
    if "chat_id" in table.c and not clauses and "patient_id" not in table.c:  # a table keyed by chat only
        clauses.append(table.c.chat_id == telegram_user_id)  # (a private chat's id is the user's id)
    return or_(*clauses) if clauses else false()


async def export(s: AsyncSession, p: Patient) -> dict[str, Any]:
    """Everything stored about one patient (for /mydata): every person table, by its export name."""
    out: dict[str, Any] = {}
    for table in reversed(person_tables()):
        if table.name in NOT_EXPORTED:
            continue
        rows = (await s.execute(select(table).where(_about(table, p.id, p.telegram_user_id))
                                .order_by(*table.primary_key.columns))).mappings()
        out[EXPORT_NAMES.get(table.name, table.name)] = [dict(r) for r in rows]
    out["patient"] = out["patient"][0] if out["patient"] else None
    return out


async def erase(s: AsyncSession, telegram_user_id: int, today: date) -> bool:
    """Delete everything about this person from every person table; only an anonymous count per day remains,
    and the facts of the clinic's actions about them, emptied of their content (FACT_TABLES).

    That includes what is kept by Telegram id rather than patient: red-flag reports from the signup
    screening, a signup in progress and the staff notices about their signup.
    """
    pid = await s.scalar(select(Patient.id).where(Patient.telegram_user_id == telegram_user_id))
    found = False
    if pid is not None:
        await audit.erase_content(s, pid)
    for table in person_tables():
        if table.name in FACT_TABLES:
            continue
        erased = bool(rowcount(await s.execute(delete(table).where(_about(table, pid, telegram_user_id)))))
        found = found or (erased and table.name not in TRANSIENT_TABLES)
    if not found:
        return False
    row = await s.get(Erasure, today)
    if row is None:
        s.add(Erasure(day=today, count=1))
    else:
        row.count += 1
    return True


async def past_retention(s: AsyncSession, last_day: date, abandoned_before: datetime) -> list[int]:
    """Telegram ids of people whose data has outlived its retention: ended patients whose program's last
    day (the trial's end, their last exercise day or question, whichever is latest) is before `last_day`,
    and enrolments left unfinished since before `abandoned_before`."""
    last_session = (select(ExerciseSession.patient_id, func.max(ExerciseSession.local_date).label("day"))
                    .group_by(col(ExerciseSession.patient_id)).subquery())
    last_question = (select(Prompt.patient_id, func.max(Prompt.asked_at).label("at"))
                     .group_by(col(Prompt.patient_id)).subquery())
    ended = await s.scalars(
        select(Patient.telegram_user_id)
        .outerjoin(last_session, last_session.c.patient_id == Patient.id)
        .outerjoin(last_question, last_question.c.patient_id == Patient.id)
        .where(Patient.status == "ended", Patient.trial_ends_on < last_day,
               or_(last_session.c.day.is_(None), last_session.c.day < last_day),
               or_(last_question.c.at.is_(None), last_question.c.at < datetime.combine(last_day, time(), UTC))))
    abandoned = await s.scalars(select(Signup.telegram_user_id).where(Signup.updated_at < abandoned_before))
    return sorted(set(ended) | set(abandoned))


def new_patient(*, user_id: int, chat_id: int, data: dict[str, Any], consent_at: datetime, now: datetime,
                trial_ends_on: date, timezone: str) -> Patient:
    return Patient(
        telegram_user_id=user_id, chat_id=chat_id, nickname=data["nickname"], condition=data["condition"],
        usual_pain=data["usual_pain"], exercise_time=data["exercise_time"], morning_time=data["morning_time"],
        timezone=timezone, consent_at=consent_at, consent_version=data.get("consent_version", 1), enrolled_at=now,
        trial_ends_on=trial_ends_on, raise_history=[], contact=data.get("contact"),
        falls_last_year=data.get("falls", False), unsteady=data.get("unsteady", False),
    )
