"""The set-based reads behind clinicians' summaries, /patient and /export.

Every read covers all of a clinician's patients at once (a handful of queries with
`patient_id IN (SELECT ...)` and GROUP BY), never one query per patient: a clinic with 10,000 patients
builds its weekly summaries in seconds. Rows come back as plain tuples, not ORM objects.
`clinician_id=None` means every patient (admins); `ids=[...]` restricts to those patients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from bot.storage.clinicians import ENROLLED
from bot.storage.models import Decision, ExerciseSession, Outbox, Patient, PatientQuestion, Prompt, RedFlagReport

# Decisions worth a clinician's attention; routine holds ("keep going", "one more session") are left out.
NOTABLE_HOLDS = ("decision.hold.not_settled", "decision.hold.trend_worse", "decision.hold.recheck_pending",
                 "decision.hold.at_minimum", "decision.hold.at_minimum_again", "decision.hold.severe_morning",
                 "decision.hold.severe_settled", "decision.hold.ceiling_pending")


def _scope(column: int | None, clinician_id: int | None, *, ids: list[int] | None = None,
           enrolled_only: bool = True) -> list[ColumnElement[bool]]:
    """`column IN (patients of this clinician)` (every patient when clinician_id is None), or `IN (ids)`."""
    if ids is not None:
        return [col(column).in_(ids)]
    patients = select(col(Patient.id))
    if enrolled_only:
        patients = patients.where(col(Patient.status).in_(ENROLLED))
    if clinician_id is not None:
        patients = patients.where(col(Patient.clinician_id) == clinician_id)
    return [col(column).in_(patients.scalar_subquery())]


def _columns(*columns: Any) -> list[Mapped[Any]]:
    """Model attributes as the columns they are (SQLModel types them as their Python values)."""
    return [col(c) for c in columns]


def patients_stmt(clinician_id: int | None, *, enrolled_only: bool = True) -> Select[Any]:
    stmt = select(*_columns(Patient.id, Patient.nickname, Patient.condition, Patient.status, Patient.paused,
                            Patient.rom, Patient.reps, Patient.load, Patient.speed, Patient.enrolled_at,
                            Patient.clinician_id, Patient.trial_ends_on, Patient.falls_last_year,
                            Patient.unsteady))
    if enrolled_only:
        stmt = stmt.where(col(Patient.status).in_(ENROLLED))
    if clinician_id is not None:
        stmt = stmt.where(col(Patient.clinician_id) == clinician_id)
    return stmt.order_by(col(Patient.id))


async def patient_rows(s: AsyncSession, clinician_id: int | None, *, ids: list[int] | None = None,
                       enrolled_only: bool = True) -> list[tuple]:
    stmt = patients_stmt(clinician_id, enrolled_only=enrolled_only)
    if ids is not None:
        stmt = stmt.where(col(Patient.id).in_(ids))
    return list((await s.execute(stmt)).all())


SESSION_COLUMNS = _columns(ExerciseSession.patient_id, ExerciseSession.local_date, ExerciseSession.status,
                           ExerciseSession.before, ExerciseSession.during, ExerciseSession.after,
                           ExerciseSession.next_morning, ExerciseSession.recheck)


async def session_rows(s: AsyncSession, clinician_id: int | None, first: date, last: date, *,
                       ids: list[int] | None = None) -> list[tuple]:
    """(patient_id, local_date, status, before, during, after, next_morning, recheck) for first..last."""
    where = [col(ExerciseSession.local_date) >= first, col(ExerciseSession.local_date) <= last]
    where += _scope(ExerciseSession.patient_id, clinician_id, ids=ids)
    stmt = select(*SESSION_COLUMNS).where(*where).order_by(*_columns(ExerciseSession.patient_id,
                                                                     ExerciseSession.local_date))
    return list((await s.execute(stmt)).all())


async def decision_rows(s: AsyncSession, clinician_id: int | None, since: datetime, until: datetime, *,
                        ids: list[int] | None = None, notable_only: bool = True) -> list[tuple]:
    """(patient_id, created_at, action, element, reasons, message, stage) in [since, until)."""
    where = [col(Decision.created_at) >= since, col(Decision.created_at) < until]
    where += _scope(Decision.patient_id, clinician_id, ids=ids)
    if notable_only:
        where.append((col(Decision.action) != "hold") | col(Decision.message).in_(NOTABLE_HOLDS))
    stmt = (select(*_columns(Decision.patient_id, Decision.created_at, Decision.action, Decision.element,
                             Decision.reasons, Decision.message, Decision.stage))
            .where(*where).order_by(*_columns(Decision.patient_id, Decision.created_at, Decision.id)))
    return list((await s.execute(stmt)).all())


async def red_flag_rows(s: AsyncSession, clinician_id: int | None, since: datetime, until: datetime, *,
                        ids: list[int] | None = None) -> list[tuple]:
    """(patient_id, created_at, flags, urgent) in [since, until)."""
    where = [col(RedFlagReport.created_at) >= since, col(RedFlagReport.created_at) < until]
    where += _scope(RedFlagReport.patient_id, clinician_id, ids=ids)
    stmt = (select(*_columns(RedFlagReport.patient_id, RedFlagReport.created_at, RedFlagReport.flags,
                             RedFlagReport.urgent))
            .where(*where).order_by(*_columns(RedFlagReport.patient_id, RedFlagReport.created_at)))
    return list((await s.execute(stmt)).all())


async def missed_prompts(s: AsyncSession, clinician_id: int | None, since: datetime, until: datetime, *,
                         ids: list[int] | None = None) -> dict[int, int]:
    """Questions asked in [since, until) never answered, per patient. A question and its repeats (same
    session and kind, e.g. a reminder and its one repeat) count once; answering any of them counts as answered."""
    groups = (select(col(Prompt.patient_id))
              .where(col(Prompt.asked_at) >= since, col(Prompt.asked_at) < until,
                     *_scope(Prompt.patient_id, clinician_id, ids=ids))
              .group_by(*_columns(Prompt.patient_id, Prompt.session_id, Prompt.kind))
              .having(func.count(col(Prompt.answered_at)) == 0).subquery())
    rows = await s.execute(select(groups.c.patient_id, func.count()).group_by(groups.c.patient_id))
    return {pid: int(n) for pid, n in rows.all()}


async def last_answers(s: AsyncSession, clinician_id: int | None, since: datetime,
                       until: datetime, *, ids: list[int] | None = None) -> dict[int, datetime]:
    """The newest answer (any question) per patient in [since, until)."""
    rows = await s.execute(
        select(col(Prompt.patient_id), func.max(col(Prompt.answered_at)))
        .where(col(Prompt.answered_at) >= since, col(Prompt.answered_at) < until,
               *_scope(Prompt.patient_id, clinician_id, ids=ids))
        .group_by(col(Prompt.patient_id)))
    return {pid: at for pid, at in rows.all() if at is not None}


async def unanswered_question_counts(s: AsyncSession, ids: list[int]) -> dict[int, int]:
    """Per patient: their questions to the clinic (「質問する」) not answered yet."""
    if not ids:
        return {}
    rows = await s.execute(select(col(PatientQuestion.patient_id), func.count()).where(
        col(PatientQuestion.patient_id).in_(ids), col(PatientQuestion.answered_at).is_(None))
        .group_by(col(PatientQuestion.patient_id)))
    return {pid: n for pid, n in rows.all()}


async def session_totals(s: AsyncSession, ids: list[int], last: date) -> dict[int, tuple[int, int]]:
    """Since the start, up to `last`: (sessions done, sessions planned) per patient."""
    rows = await s.execute(
        select(col(ExerciseSession.patient_id), col(ExerciseSession.status), func.count())
        .where(col(ExerciseSession.patient_id).in_(ids), col(ExerciseSession.local_date) <= last)
        .group_by(col(ExerciseSession.patient_id), col(ExerciseSession.status)))
    out: dict[int, tuple[int, int]] = {}
    for pid, status, n in rows.all():
        done, planned = out.get(pid, (0, 0))
        out[pid] = (done + (int(n) if status == "done" else 0), planned + int(n))
    return out


async def red_flag_alerts(s: AsyncSession, ids: list[int], since: datetime) -> dict[int, tuple[int, int]]:
    """Red-flag alerts about these patients scheduled since `since`: (how many, how many nobody acknowledged
    with 「対応しました」), per patient."""
    rows = await s.execute(
        select(col(Outbox.patient_id), col(Outbox.payload))
        .where(col(Outbox.kind) == "alert", col(Outbox.patient_id).in_(ids), col(Outbox.created_at) >= since,
               col(Outbox.state) != "cancelled", col(Outbox.variant).like("red_flag%")))
    out: dict[int, tuple[int, int]] = {}
    for pid, payload in rows.all():
        total, open_ = out.get(pid, (0, 0))
        out[pid] = (total + 1, open_ + (not isinstance((payload or {}).get("ack"), dict)))
    return out


async def newest_stop_reasons(s: AsyncSession, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The reasons of each patient's newest stop decision (why a paused patient is paused)."""
    newest = (select(col(Decision.patient_id), func.max(col(Decision.id)).label("id"))
              .where(col(Decision.patient_id).in_(ids), col(Decision.action) == "stop")
              .group_by(col(Decision.patient_id)).subquery())
    rows = await s.execute(select(col(Decision.patient_id), col(Decision.reasons))
                           .join(newest, col(Decision.id) == newest.c.id))
    return {pid: tuple(reasons or ()) for pid, reasons in rows.all()}


# --- one patient's progress (bot/coaching/progress.py: the weekly report, milestones) -----------------------

async def raises(s: AsyncSession, patient_id: int, since: datetime,
                 until: datetime) -> list[tuple[dict[str, int], dict[str, int]]]:
    """The raises in [since, until): (levels before, levels after), oldest first."""
    rows = await s.execute(select(col(Decision.levels_before), col(Decision.levels_after))
                           .where(col(Decision.patient_id) == patient_id, col(Decision.action) == "progress",
                                  col(Decision.created_at) >= since, col(Decision.created_at) < until)
                           .order_by(col(Decision.created_at), col(Decision.id)))
    return [(dict(b or {}), dict(a or {})) for b, a in rows.all()]


async def stepped_back(s: AsyncSession, patient_id: int, since: datetime, until: datetime) -> bool:
    """A step back or a stop in [since, until) (a hard week)."""
    found = await s.scalar(select(col(Decision.id)).where(
        col(Decision.patient_id) == patient_id, col(Decision.action).in_(("step_back", "stop")),
        col(Decision.created_at) >= since, col(Decision.created_at) < until).limit(1))
    return found is not None


async def raised_ever(s: AsyncSession, patient_id: int) -> bool:
    found = await s.scalar(select(col(Decision.id)).where(col(Decision.patient_id) == patient_id,
                                                          col(Decision.action) == "progress").limit(1))
    return found is not None


async def done_count(s: AsyncSession, patient_id: int) -> int:
    return int(await s.scalar(select(func.count()).select_from(ExerciseSession).where(
        col(ExerciseSession.patient_id) == patient_id, col(ExerciseSession.status) == "done")) or 0)
