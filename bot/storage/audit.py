"""The clinician controls' records (issue 10): the audit log, clinic notes, patients' questions to the clinic,
and what a clinician's next typed message is for (staff input). Writes and reads only; what an action means
is in bot/coaching/controls.py and bot/coaching/questions.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.storage.db import rowcount
from bot.storage.models import AuditEntry, ClinicNote, Patient, PatientQuestion, StaffInput

# --- the audit log -------------------------------------------------------------------------------


async def record(s: AsyncSession, *, patient_id: int, at: datetime, actor_user_id: int, actor_name: str,
                 action: str, before: Any = None, after: Any = None, detail: int | None = None) -> AuditEntry:
    row = AuditEntry(patient_id=patient_id, at=at, actor_user_id=actor_user_id, actor_name=actor_name,
                     action=action, before=before, after=after, detail=detail)
    s.add(row)
    await s.flush()
    return row


async def entries(s: AsyncSession, patient_id: int, limit: int) -> list[AuditEntry]:
    """The newest `limit` entries about a patient, newest first."""
    return list(await s.scalars(select(AuditEntry).where(col(AuditEntry.patient_id) == patient_id)
                                .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)))


async def rows_for(s: AsyncSession, ids: list[int]) -> list[AuditEntry]:
    """Every entry about these patients, oldest first (the CSV export)."""
    if not ids:
        return []
    return list(await s.scalars(select(AuditEntry).where(col(AuditEntry.patient_id).in_(ids))
                                .order_by(col(AuditEntry.patient_id), col(AuditEntry.at), col(AuditEntry.id))))


async def erase_content(s: AsyncSession, patient_id: int) -> int:
    """A patient's erasure keeps the fact of each control (who, when, which patient id, which action) and drops
    its content (before, after, the note or question it wrote)."""
    done = await s.execute(update(AuditEntry).where(col(AuditEntry.patient_id) == patient_id)
                           .values(before=None, after=None, detail=None, erased=True))
    return rowcount(done)


# --- notes ---------------------------------------------------------------------------------------


async def add_note(s: AsyncSession, *, patient_id: int, kind: str, text: str, author_user_id: int,
                   author_name: str, now: datetime) -> ClinicNote:
    note = ClinicNote(patient_id=patient_id, kind=kind, text=text, author_user_id=author_user_id,
                      author_name=author_name, created_at=now)
    s.add(note)
    await s.flush()
    return note


async def notes(s: AsyncSession, patient_id: int, kind: str, limit: int) -> list[ClinicNote]:
    return list(await s.scalars(select(ClinicNote).where(col(ClinicNote.patient_id) == patient_id,
                                                         col(ClinicNote.kind) == kind)
                                .order_by(col(ClinicNote.id).desc()).limit(limit)))


# --- questions -----------------------------------------------------------------------------------


async def add_question(s: AsyncSession, *, patient_id: int, text: str, now: datetime) -> PatientQuestion:
    q = PatientQuestion(patient_id=patient_id, text=text, asked_at=now)
    s.add(q)
    await s.flush()
    return q


async def answer_question(s: AsyncSession, question_id: int, *, answer: str, by: int, name: str,
                          now: datetime) -> bool:
    """Record the reply, once: a second reply (another clinician, a double send) finds it answered."""
    done = await s.execute(update(PatientQuestion).where(col(PatientQuestion.id) == question_id,
                                                         col(PatientQuestion.answered_at).is_(None))
                           .values(answer=answer, answered_by=by, answered_name=name, answered_at=now))
    return bool(rowcount(done))


async def open_questions(s: AsyncSession, patient_id: int) -> list[PatientQuestion]:
    return list(await s.scalars(select(PatientQuestion).where(col(PatientQuestion.patient_id) == patient_id,
                                                              col(PatientQuestion.answered_at).is_(None))
                                .order_by(col(PatientQuestion.id))))


async def unanswered(s: AsyncSession, clinician_id: int | None, asked_before: datetime
                     ) -> list[tuple[int, int, str, datetime, str]]:
    """Questions asked before `asked_before` and still unanswered, of this clinician's patients (None: all),
    oldest first: (question id, patient id, nickname, asked at, text)."""
    columns: list[Any] = [PatientQuestion.id, PatientQuestion.patient_id, Patient.nickname, PatientQuestion.asked_at,
                          PatientQuestion.text]
    query = (select(*columns)
             .join(Patient, col(Patient.id) == col(PatientQuestion.patient_id))
             .where(col(PatientQuestion.answered_at).is_(None), col(PatientQuestion.asked_at) < asked_before)
             .order_by(col(PatientQuestion.asked_at), col(PatientQuestion.id)))
    if clinician_id is not None:
        query = query.where(col(Patient.clinician_id) == clinician_id)
    return [(a, b, c, d, e) for a, b, c, d, e in (await s.execute(query)).all()]


# --- staff input: what a clinician's next typed message is for ------------------------------------


async def expect_input(s: AsyncSession, telegram_user_id: int, action: str, target: int, now: datetime) -> None:
    row = await s.get(StaffInput, telegram_user_id)
    if row is None:
        s.add(StaffInput(telegram_user_id=telegram_user_id, action=action, target=target, since=now))
    else:
        row.action, row.target, row.since = action, target, now


async def pending_input(s: AsyncSession, telegram_user_id: int, fresh_after: datetime) -> StaffInput | None:
    """The input this person was asked for, if asked after `fresh_after` (an older one is dropped)."""
    row = await s.get(StaffInput, telegram_user_id)
    if row is not None and row.since <= fresh_after:
        await s.delete(row)
        return None
    return row


async def drop_input(s: AsyncSession, row: StaffInput) -> None:
    await s.delete(row)


async def forget_input(s: AsyncSession, telegram_user_id: int) -> None:
    """The clinician did something else (another control, a command): the text asked for is no longer expected."""
    await s.execute(delete(StaffInput).where(col(StaffInput.telegram_user_id) == telegram_user_id))
