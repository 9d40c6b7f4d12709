"""The delivery queue: schedule rows idempotently, claim due rows atomically, record the outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Outbox

PENDING, CLAIMED, SENT, DONE = "pending", "claimed", "sent", "done"
MISSED, FAILED, CANCELLED = "missed", "failed", "cancelled"


async def schedule(
    s: AsyncSession,
    *,
    kind: str,
    due_at: datetime,
    dedupe_key: str,
    now: datetime,
    patient_id: int | None = None,
    chat_id: int | None = None,
    session_id: int | None = None,
    payload: dict[str, Any] | None = None,
    revive: bool = False,
) -> bool:
    """Insert a due row unless one with the same dedupe key exists. True if inserted.

    With `revive`, a row of that key that was cancelled (by a pause, a change of time, ...) is planned
    again instead (True as well); a pending, claimed or delivered row stays as it is (False)."""
    values = dict(
        kind=kind, due_at=due_at, dedupe_key=dedupe_key, patient_id=patient_id, chat_id=chat_id,
        session_id=session_id, payload=payload or {}, state=PENDING, attempts=0, created_at=now,
    )
    dialect = s.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Outbox).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = await s.execute(stmt)
    if result.rowcount or not revive:
        return bool(result.rowcount)
    revived = await s.execute(
        update(Outbox).where(Outbox.dedupe_key == dedupe_key, Outbox.state == CANCELLED)
        .values(state=PENDING, due_at=due_at, payload=payload or {}, session_id=session_id, attempts=0,
                claimed_by=None, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    return bool(revived.rowcount)


async def state_of(s: AsyncSession, dedupe_key: str) -> str | None:
    return await s.scalar(select(Outbox.state).where(Outbox.dedupe_key == dedupe_key))


async def cancel(s: AsyncSession, *, patient_id: int, kinds: tuple[str, ...] | None = None,
                 session_id: int | None = None, not_before: datetime | None = None) -> int:
    """Cancel a patient's pending rows (optionally only some kinds / one session / due from a time)."""
    conds = [Outbox.patient_id == patient_id, Outbox.state == PENDING]
    if kinds:
        conds.append(Outbox.kind.in_(kinds))  # type: ignore[attr-defined]
    if session_id is not None:
        conds.append(Outbox.session_id == session_id)
    if not_before is not None:
        conds.append(Outbox.due_at >= not_before)
    result = await s.execute(update(Outbox).where(and_(*conds)).values(state=CANCELLED))
    return result.rowcount or 0


async def claim_due(s: AsyncSession, *, now: datetime, worker: str, limit: int,
                    lease: timedelta) -> list[Outbox]:
    """Atomically claim up to `limit` due rows (pending, or claimed by a worker whose lease expired).

    PostgreSQL: FOR UPDATE SKIP LOCKED, so several instances claim disjoint rows. SQLite: one writer at
    a time, so the UPDATE ... WHERE id IN (SELECT ...) is atomic on its own.
    """
    due = or_(
        and_(Outbox.state == PENDING, Outbox.due_at <= now),
        and_(Outbox.state == CLAIMED, Outbox.claimed_until < now),
    )
    ids = select(Outbox.id).where(due).order_by(Outbox.due_at, Outbox.id).limit(limit)
    if s.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(ids.scalar_subquery()))  # type: ignore[union-attr]
        .values(state=CLAIMED, claimed_by=worker, claimed_until=now + lease, attempts=Outbox.attempts + 1)
        .returning(Outbox)
        .execution_options(synchronize_session=False)
    )
    rows = (await s.execute(stmt)).scalars().all()
    return sorted(rows, key=lambda r: (r.due_at, r.id))


async def finish(s: AsyncSession, row_id: int, *, worker: str, state: str, now: datetime,
                 error: str | None = None) -> bool:
    """Record the outcome of a claimed row; False if our claim was lost meanwhile."""
    values: dict[str, Any] = {"state": state, "claimed_until": None, "last_error": error}
    if state == SENT:
        values["sent_at"] = now
    result = await s.execute(
        update(Outbox).where(Outbox.id == row_id, Outbox.claimed_by == worker, Outbox.state == CLAIMED)
        .values(**values)
    )
    return bool(result.rowcount)


async def finish_many(s: AsyncSession, ids: list[int], *, worker: str, state: str, now: datetime) -> None:
    """Record the same outcome for many claimed rows in one statement."""
    if not ids:
        return
    values: dict[str, Any] = {"state": state, "claimed_until": None, "last_error": None}
    if state == SENT:
        values["sent_at"] = now
    await s.execute(update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == worker,  # type: ignore[union-attr]
                                         Outbox.state == CLAIMED).values(**values))


async def retry_later(s: AsyncSession, row_id: int, *, worker: str, due_at: datetime, error: str) -> None:
    await s.execute(
        update(Outbox).where(Outbox.id == row_id, Outbox.claimed_by == worker, Outbox.state == CLAIMED)
        .values(state=PENDING, due_at=due_at, claimed_until=None, claimed_by=None, last_error=error[:200])
    )


async def depth(s: AsyncSession, now: datetime) -> dict[str, Any]:
    """Queue figures for `python -m bot status`."""
    due = await s.scalar(select(func.count()).where(Outbox.state == PENDING, Outbox.due_at <= now))
    pending = await s.scalar(select(func.count()).where(Outbox.state == PENDING))
    last = await s.scalar(select(func.max(Outbox.sent_at)))
    failed = await s.scalar(select(func.count()).where(Outbox.state == FAILED))
    return {"due_now": due, "pending": pending, "last_sent_at": last, "failed": failed}
