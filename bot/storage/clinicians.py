"""Clinicians and admins (who is who, who may see which patient) and invites (joining, leaving).

The reads behind summaries and exports are in storage/reports.py; the CSV export in bot/reports/export.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.storage.db import rowcount
from bot.storage.models import Clinician, Invite, Outbox, Patient

# Codes people type: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
ENROLLED = ("trial", "active")  # patient statuses a clinician's list and summaries cover


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an admin (sees every patient) and/or a clinician (sees their own)."""

    telegram_user_id: int
    admin: bool
    clinician: Clinician | None

    @property
    def scope(self) -> int | None:
        """The clinician whose patients this viewer sees; None = all patients (admins)."""
        if self.admin:
            return None
        assert self.clinician is not None  # viewer() makes a viewer who is not an admin only for a clinician
        return self.clinician.id


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- who is who -----------------------------------------------------------------------------------

async def by_user(s: AsyncSession, telegram_user_id: int) -> Clinician | None:
    """The active clinician with this Telegram user id."""
    return await s.scalar(select(Clinician).where(Clinician.telegram_user_id == telegram_user_id,
                                                  col(Clinician.removed_at).is_(None)))


async def get_active(s: AsyncSession, clinician_id: int | None) -> Clinician | None:
    if clinician_id is None:
        return None
    c = await s.get(Clinician, clinician_id)
    return c if c is not None and c.removed_at is None else None


async def by_link_code(s: AsyncSession, code: str) -> Clinician | None:
    return await s.scalar(select(Clinician).where(Clinician.link_code == code,
                                                  col(Clinician.removed_at).is_(None)))


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
    counts = (select(Patient.clinician_id, func.count().label("n")).where(col(Patient.status).in_(ENROLLED))
              .group_by(col(Patient.clinician_id)).subquery())
    rows = await s.execute(
        select(Clinician, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.clinician_id == Clinician.id)
        .where(col(Clinician.removed_at).is_(None)).order_by(col(Clinician.id)))
    return [(c, int(n)) for c, n in rows.all()]


async def unassigned_count(s: AsyncSession) -> int:
    return await s.scalar(select(func.count()).select_from(Patient).where(
        col(Patient.clinician_id).is_(None), col(Patient.status).in_(ENROLLED))) or 0


async def default_for_new_patient(s: AsyncSession, default_clinician_id: int | None) -> int | None:
    """DEFAULT_CLINICIAN_ID if that clinician is active; otherwise the only active clinician; otherwise None."""
    if (c := await get_active(s, default_clinician_id)) is not None:
        return c.id
    ids = list(await s.scalars(select(Clinician.id).where(col(Clinician.removed_at).is_(None)).limit(2)))
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
        update(Invite).where(col(Invite.code) == code.strip().upper(), col(Invite.used_at).is_(None),
                             col(Invite.expires_at) > now)
        .values(used_at=now, used_by=telegram_user_id))
    if not rowcount(taken):
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
    moved = await s.execute(update(Patient).where(col(Patient.clinician_id) == clinician_id)
                            .values(clinician_id=None))
    await s.execute(update(Outbox).where(col(Outbox.kind) == "weekly_summary", col(Outbox.state) == "pending",
                                         col(Outbox.clinician_id) == clinician_id).values(state="cancelled"))
    return rowcount(moved)


async def names(s: AsyncSession) -> dict[int, str]:
    """Every clinician's name by id (removed ones included, for old assignments)."""
    return {cid: name for cid, name in (await s.execute(select(Clinician.id, Clinician.name))).all()}
