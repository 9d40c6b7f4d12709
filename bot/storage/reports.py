"""The set-based reads behind clinicians' summaries, /patient and /export.

Every read covers all of a clinician's patients at once (a handful of queries with
`patient_id IN (SELECT ...)` and GROUP BY), never one query per patient: a clinic with 10,000 patients
builds its weekly summaries in seconds. Rows come back as plain tuples, not ORM objects.
`clinician_id=None` means every patient (admins); `ids=[...]` restricts to those patients.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.clinicians import ENROLLED
from bot.storage.models import Decision, ExerciseSession, Patient, Prompt, RedFlagReport

# Decisions worth a clinician's attention; routine holds ("keep going", "one more session") are left out.
NOTABLE_HOLDS = ("decision.hold.not_settled", "decision.hold.trend_worse", "decision.hold.recheck_pending",
                 "decision.hold.at_minimum")


def _scope(column, clinician_id: int | None, *, ids: list[int] | None = None, enrolled_only: bool = True) -> list:
    """`column IN (patients of this clinician)` (every patient when clinician_id is None), or `IN (ids)`."""
    if ids is not None:
        return [column.in_(ids)]
    ids = select(Patient.id)
    if enrolled_only:
        ids = ids.where(Patient.status.in_(ENROLLED))  # type: ignore[attr-defined]
    if clinician_id is not None:
        ids = ids.where(Patient.clinician_id == clinician_id)
    return [column.in_(ids.scalar_subquery())]


def patients_stmt(clinician_id: int | None, *, enrolled_only: bool = True) -> Select:
    stmt = select(Patient.id, Patient.nickname, Patient.condition, Patient.status, Patient.paused,  # type: ignore[call-overload]
                  Patient.rom, Patient.reps, Patient.load, Patient.speed, Patient.enrolled_at,
                  Patient.clinician_id)
    if enrolled_only:
        stmt = stmt.where(Patient.status.in_(ENROLLED))  # type: ignore[attr-defined]
    if clinician_id is not None:
        stmt = stmt.where(Patient.clinician_id == clinician_id)
    return stmt.order_by(Patient.id)


async def patient_rows(s: AsyncSession, clinician_id: int | None, *, ids: list[int] | None = None,
                       enrolled_only: bool = True) -> list[tuple]:
    stmt = patients_stmt(clinician_id, enrolled_only=enrolled_only)
    if ids is not None:
        stmt = stmt.where(Patient.id.in_(ids))  # type: ignore[union-attr]
    return list((await s.execute(stmt)).all())


SESSION_COLUMNS = (ExerciseSession.patient_id, ExerciseSession.local_date, ExerciseSession.status,
                   ExerciseSession.before, ExerciseSession.during, ExerciseSession.after,
                   ExerciseSession.next_morning, ExerciseSession.recheck)


async def session_rows(s: AsyncSession, clinician_id: int | None, first: date, last: date, *,
                       ids: list[int] | None = None) -> list[tuple]:
    """(patient_id, local_date, status, before, during, after, next_morning, recheck) for first..last."""
    where = [ExerciseSession.local_date >= first, ExerciseSession.local_date <= last]
    where += _scope(ExerciseSession.patient_id, clinician_id, ids=ids)
    stmt = select(*SESSION_COLUMNS).where(*where).order_by(ExerciseSession.patient_id, ExerciseSession.local_date)
    return list((await s.execute(stmt)).all())


async def decision_rows(s: AsyncSession, clinician_id: int | None, since: datetime, until: datetime, *,
                        ids: list[int] | None = None, notable_only: bool = True) -> list[tuple]:
    """(patient_id, created_at, action, element, reasons, message, stage) in [since, until)."""
    where = [Decision.created_at >= since, Decision.created_at < until]
    where += _scope(Decision.patient_id, clinician_id, ids=ids)
    if notable_only:
        where.append((Decision.action != "hold") | Decision.message.in_(NOTABLE_HOLDS))  # type: ignore[attr-defined]
    stmt = (select(Decision.patient_id, Decision.created_at, Decision.action, Decision.element,  # type: ignore[call-overload]
                   Decision.reasons, Decision.message, Decision.stage)
            .where(*where).order_by(Decision.patient_id, Decision.created_at, Decision.id))
    return list((await s.execute(stmt)).all())


async def red_flag_rows(s: AsyncSession, clinician_id: int | None, since: datetime, until: datetime, *,
                        ids: list[int] | None = None) -> list[tuple]:
    """(patient_id, created_at, flags, urgent) in [since, until)."""
    where = [RedFlagReport.created_at >= since, RedFlagReport.created_at < until]
    where += _scope(RedFlagReport.patient_id, clinician_id, ids=ids)
    stmt = (select(RedFlagReport.patient_id, RedFlagReport.created_at, RedFlagReport.flags, RedFlagReport.urgent)
            .where(*where).order_by(RedFlagReport.patient_id, RedFlagReport.created_at))
    return list((await s.execute(stmt)).all())


async def missed_prompts(s: AsyncSession, clinician_id: int | None, since: datetime, until: datetime, *,
                         ids: list[int] | None = None) -> dict[int, int]:
    """Questions asked in [since, until) never answered, per patient. A question and its repeats (same
    session and kind, e.g. a reminder and its one repeat) count once; answering any of them counts as answered."""
    groups = (select(Prompt.patient_id)
              .where(Prompt.asked_at >= since, Prompt.asked_at < until,
                     *_scope(Prompt.patient_id, clinician_id, ids=ids))
              .group_by(Prompt.patient_id, Prompt.session_id, Prompt.kind)
              .having(func.count(Prompt.answered_at) == 0).subquery())
    rows = await s.execute(select(groups.c.patient_id, func.count()).group_by(groups.c.patient_id))
    return {pid: int(n) for pid, n in rows.all()}


async def last_answers(s: AsyncSession, clinician_id: int | None, since: datetime,
                       until: datetime, *, ids: list[int] | None = None) -> dict[int, datetime]:
    """The newest answer (any question) per patient in [since, until)."""
    rows = await s.execute(
        select(Prompt.patient_id, func.max(Prompt.answered_at))
        .where(Prompt.answered_at >= since, Prompt.answered_at < until,
               *_scope(Prompt.patient_id, clinician_id, ids=ids))
        .group_by(Prompt.patient_id))
    return {pid: at for pid, at in rows.all() if at is not None}
