"""Clinicians, invites, who may see which patient, and the set-based reads behind summaries and exports.

Every read for a summary covers all of a clinician's patients at once (a handful of queries with
`patient_id IN (SELECT ...)` and GROUP BY), never one query per patient: a clinic with 10,000 patients
builds its weekly summaries in seconds. Rows come back as plain tuples, not ORM objects.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Clinician, Decision, ExerciseSession, Invite, Outbox, Patient, Prompt, RedFlagReport

# Codes people type: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8

# Decisions worth a clinician's attention; routine holds ("keep going", "one more session") are left out.
NOTABLE_HOLDS = ("decision.hold.not_settled", "decision.hold.trend_worse", "decision.hold.recheck_pending",
                 "decision.hold.at_minimum")
ENROLLED = ("trial", "active")


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an admin (sees every patient) and/or a clinician (sees their own)."""

    telegram_user_id: int
    admin: bool
    clinician: Clinician | None

    @property
    def scope(self) -> int | None:
        """The clinician whose patients this viewer sees; None = all patients (admins)."""
        return None if self.admin else self.clinician.id  # type: ignore[union-attr]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- who is who -----------------------------------------------------------------------------------

async def by_user(s: AsyncSession, telegram_user_id: int) -> Clinician | None:
    """The active clinician with this Telegram user id."""
    return await s.scalar(select(Clinician).where(Clinician.telegram_user_id == telegram_user_id,
                                                  Clinician.removed_at.is_(None)))  # type: ignore[union-attr]


async def get_active(s: AsyncSession, clinician_id: int | None) -> Clinician | None:
    if clinician_id is None:
        return None
    c = await s.get(Clinician, clinician_id)
    return c if c is not None and c.removed_at is None else None


async def by_link_code(s: AsyncSession, code: str) -> Clinician | None:
    return await s.scalar(select(Clinician).where(Clinician.link_code == code,
                                                  Clinician.removed_at.is_(None)))  # type: ignore[union-attr]


async def viewer(s: AsyncSession, admin_ids: Iterable[int], telegram_user_id: int) -> Viewer | None:
    """The viewer behind a Telegram user, or None for everyone else (patients, strangers)."""
    admin = telegram_user_id in set(admin_ids)
    c = await by_user(s, telegram_user_id)
    if not admin and c is None:
        return None
    return Viewer(telegram_user_id=telegram_user_id, admin=admin, clinician=c)


async def may_see(s: AsyncSession, v: Viewer, patient_id: int) -> Patient | None:
    """The patient if this viewer may see them; None both when not allowed and when there is no such patient."""
    p = await s.get(Patient, patient_id)
    if p is None or (v.scope is not None and p.clinician_id != v.scope):
        return None
    return p


async def active_list(s: AsyncSession) -> list[tuple[Clinician, int]]:
    """Active clinicians with their number of enrolled patients, in joining order."""
    counts = (select(Patient.clinician_id, func.count().label("n")).where(Patient.status.in_(ENROLLED))  # type: ignore[attr-defined]
              .group_by(Patient.clinician_id).subquery())
    rows = await s.execute(
        select(Clinician, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.clinician_id == Clinician.id)
        .where(Clinician.removed_at.is_(None)).order_by(Clinician.id))  # type: ignore[union-attr]
    return [(c, int(n)) for c, n in rows.all()]


async def unassigned_count(s: AsyncSession) -> int:
    return await s.scalar(select(func.count()).select_from(Patient).where(
        Patient.clinician_id.is_(None), Patient.status.in_(ENROLLED))) or 0  # type: ignore[union-attr,attr-defined]


async def default_for_new_patient(s: AsyncSession, default_clinician_id: int | None) -> int | None:
    """DEFAULT_CLINICIAN_ID if that clinician is active; otherwise the only active clinician; otherwise None."""
    if (c := await get_active(s, default_clinician_id)) is not None:
        return c.id
    ids = list(await s.scalars(select(Clinician.id).where(Clinician.removed_at.is_(None)).limit(2)))  # type: ignore[union-attr]
    return ids[0] if len(ids) == 1 else None


# --- invites and membership -----------------------------------------------------------------------

async def create_invite(s: AsyncSession, *, created_by: int, now: datetime, valid: timedelta) -> Invite:
    row = Invite(code=new_code(), created_by=created_by, created_at=now, expires_at=now + valid)
    s.add(row)
    await s.flush()
    return row


async def redeem(s: AsyncSession, *, code: str, telegram_user_id: int, chat_id: int, name: str,
                 now: datetime) -> Clinician | None:
    """Use an invite exactly once (an atomic UPDATE ... WHERE unused AND unexpired) and make this user an
    active clinician (a removed clinician is reactivated). None when the code is unknown, used or expired."""
    taken = await s.execute(
        update(Invite).where(Invite.code == code.strip().upper(), Invite.used_at.is_(None),  # type: ignore[union-attr]
                             Invite.expires_at > now)
        .values(used_at=now, used_by=telegram_user_id))
    if not taken.rowcount:
        return None
    c = await s.scalar(select(Clinician).where(Clinician.telegram_user_id == telegram_user_id))
    if c is None:
        c = Clinician(telegram_user_id=telegram_user_id, chat_id=chat_id, name=name, link_code=new_code(),
                      joined_at=now)
        s.add(c)
    else:
        c.removed_at, c.chat_id, c.name = None, chat_id, name
    await s.flush()
    return c


async def remove(s: AsyncSession, clinician_id: int, now: datetime) -> int | None:
    """Deactivate a clinician: their patients become unassigned (alerts go to the staff chat) and their
    weekly summaries stop. Returns how many patients were unassigned, None if no such active clinician."""
    c = await get_active(s, clinician_id)
    if c is None:
        return None
    c.removed_at = now
    moved = await s.execute(update(Patient).where(Patient.clinician_id == clinician_id).values(clinician_id=None))
    await s.execute(update(Outbox).where(Outbox.kind == "weekly_summary", Outbox.state == "pending",
                                         Outbox.dedupe_key.like(f"summary:{clinician_id}:%"))  # type: ignore[attr-defined]
                    .values(state="cancelled"))
    return moved.rowcount or 0


# --- set-based reads for summaries ----------------------------------------------------------------

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


async def names(s: AsyncSession) -> dict[int, str]:
    """Every clinician's name by id (removed ones included, for old assignments)."""
    return {cid: name for cid, name in (await s.execute(select(Clinician.id, Clinician.name))).all()}
