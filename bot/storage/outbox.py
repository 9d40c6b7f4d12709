"""The delivery queue: schedule rows idempotently, claim due rows atomically, record the outcome."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, delete, func, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import and_, col, or_, select

from bot.batching import Batched
from bot.storage.db import insert_for, rowcount
from bot.storage.models import Outbox

log = logging.getLogger(__name__)

PENDING, CLAIMED, SENT, DONE = "pending", "claimed", "sent", "done"
MISSED, FAILED, CANCELLED = "missed", "failed", "cancelled"


# The columns that say what a row is about; with the kind they make its dedupe key.
KEY_COLUMNS = ("patient_id", "session_id", "clinician_id", "telegram_user_id", "local_date", "variant")
_TAGS = dict(zip(KEY_COLUMNS, ("p", "s", "c", "u", "d", "v"), strict=True))
LIVE = col(Outbox.state) != CANCELLED  # the dedupe key is unique among these: a cancelled row never blocks a new one
_LIVE_INDEX = text("state != 'cancelled'")  # as written in the partial unique index (a literal, to match it)


def dedupe_key(kind: str, **columns: Any) -> str:
    """The one way a dedupe key is made: the kind and the row's key columns that are set, e.g.
    `reminder:p12:d2026-12-01:v09:00`. Rows are found by those columns, never by matching the key."""
    unknown = set(columns) - set(KEY_COLUMNS)
    if unknown:
        raise ValueError(f"not a key column: {sorted(unknown)}")
    parts = [f"{_TAGS[c]}{columns[c].isoformat() if isinstance(columns[c], date) else columns[c]}"
             for c in KEY_COLUMNS if columns.get(c) is not None]
    return ":".join([kind, *parts])


def _row(kind: str, due_at: datetime, now: datetime, chat_id: int | None, payload: dict[str, Any] | None,
         columns: dict[str, Any]) -> dict[str, Any]:
    keyed = {c: columns.get(c) for c in KEY_COLUMNS}
    return dict(kind=kind, due_at=due_at, chat_id=chat_id, payload=payload or {}, state=PENDING, attempts=0,
                created_at=now, dedupe_key=dedupe_key(kind, **columns), **keyed)


def _insert(s: AsyncSession) -> Insert:
    return insert_for(s, Outbox).on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=_LIVE_INDEX)


async def schedule(s: AsyncSession, *, kind: str, due_at: datetime, now: datetime, chat_id: int | None = None,
                   payload: dict[str, Any] | None = None, **columns: Any) -> bool:
    """Insert a due row unless a live (not cancelled) row with the same key exists. True if inserted.

    `columns` are the key columns (KEY_COLUMNS) saying what the row is about; a row cancelled by a pause
    or a change of time does not block planning the same row again."""
    result = await s.execute(_insert(s).values(**_row(kind, due_at, now, chat_id, payload, columns)))
    return bool(rowcount(result))


async def schedule_many(s: AsyncSession, rows: list[dict[str, Any]], *, now: datetime) -> None:
    """Many rows in one statement (dicts of kind, due_at, chat_id, payload and key columns), each skipped
    if a live row with its key exists."""
    if rows:
        await s.execute(_insert(s), [_row(r.pop("kind"), r.pop("due_at"), now, r.pop("chat_id", None),
                                          r.pop("payload", None), r) for r in map(dict, rows)])


async def morning_question_near(s: AsyncSession, patient_id: int, other_than_session: int, due_at: datetime,
                                within: timedelta) -> bool:
    """A live next-morning question of another of this patient's sessions due within `within` of `due_at`."""
    found = await s.scalar(select(col(Outbox.id)).where(
        col(Outbox.kind) == "morning_prompt", col(Outbox.patient_id) == patient_id, LIVE,
        col(Outbox.session_id) != other_than_session, col(Outbox.due_at) >= due_at - within,
        col(Outbox.due_at) <= due_at + within).limit(1))
    return found is not None


async def state_of(s: AsyncSession, kind: str, **columns: Any) -> str | None:
    """The state of the live row of this kind and key, None if there is none."""
    return await s.scalar(select(Outbox.state).where(Outbox.dedupe_key == dedupe_key(kind, **columns), LIVE))


async def live_row(s: AsyncSession, kind: str, **columns: Any) -> Outbox | None:
    """The live row of this kind and key, None if there is none."""
    return await s.scalar(select(Outbox).where(Outbox.dedupe_key == dedupe_key(kind, **columns), LIVE))


async def cancel(s: AsyncSession, *, patient_id: int, kinds: tuple[str, ...] | None = None,
                 session_id: int | None = None) -> int:
    """Cancel a patient's pending rows (optionally only some kinds / one session)."""
    conds = [col(Outbox.patient_id) == patient_id, col(Outbox.state) == PENDING]
    if kinds:
        conds.append(col(Outbox.kind).in_(kinds))
    if session_id is not None:
        conds.append(col(Outbox.session_id) == session_id)
    result = await s.execute(update(Outbox).where(and_(*conds)).values(state=CANCELLED))
    return rowcount(result)


async def claim_due(s: AsyncSession, *, now: datetime, worker: str, limit: int,
                    lease: timedelta) -> list[Outbox]:
    """Atomically claim up to `limit` due rows (pending, or claimed by a worker whose lease expired).

    PostgreSQL: FOR UPDATE SKIP LOCKED, so several instances claim disjoint rows. SQLite: one writer at
    a time, so the UPDATE ... WHERE id IN (SELECT ...) is atomic on its own.
    """
    due = or_(
        and_(Outbox.state == PENDING, Outbox.due_at <= now),
        and_(Outbox.state == CLAIMED, col(Outbox.claimed_until) < now),
    )
    ids = select(Outbox.id).where(due).order_by(col(Outbox.due_at), col(Outbox.id)).limit(limit)
    if s.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    stmt = (
        update(Outbox)
        .where(col(Outbox.id).in_(ids.scalar_subquery()))
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
        update(Outbox).where(col(Outbox.id) == row_id, col(Outbox.claimed_by) == worker, col(Outbox.state) == CLAIMED)
        .values(**values)
    )
    return bool(rowcount(result))


async def finish_many(s: AsyncSession, ids: list[int], *, worker: str, state: str, now: datetime) -> None:
    """Record the same outcome for many claimed rows in one statement."""
    if not ids:
        return
    values: dict[str, Any] = {"state": state, "claimed_until": None, "last_error": None}
    if state == SENT:
        values["sent_at"] = now
    await s.execute(update(Outbox).where(col(Outbox.id).in_(ids), col(Outbox.claimed_by) == worker,
                                         col(Outbox.state) == CLAIMED).values(**values))


async def retry_later(s: AsyncSession, row_id: int, *, worker: str, due_at: datetime, error: str) -> None:
    await s.execute(
        update(Outbox).where(col(Outbox.id) == row_id, col(Outbox.claimed_by) == worker, col(Outbox.state) == CLAIMED)
        .values(state=PENDING, due_at=due_at, claimed_until=None, claimed_by=None, last_error=error[:200])
    )


async def depth(s: AsyncSession, now: datetime) -> dict[str, Any]:
    """Queue figures for `python -m bot status`."""
    due = await s.scalar(select(func.count()).where(Outbox.state == PENDING, Outbox.due_at <= now))
    pending = await s.scalar(select(func.count()).where(Outbox.state == PENDING))
    last = await s.scalar(select(func.max(Outbox.sent_at)))
    failed = await s.scalar(select(func.count()).where(Outbox.state == FAILED))
    return {"due_now": due, "pending": pending, "last_sent_at": last, "failed": failed}


REPLY = "reply"  # a handler's answer (bot/handlers/common.py), kept until it is sent


async def add_reply(s: AsyncSession, *, chat_id: int, telegram_user_id: int, update_id: int,
                    messages: list[dict[str, Any]], now: datetime, worker: str, lease: timedelta) -> int | None:
    """A handler's answer to one update, in the handler's transaction: claimed by this instance, which sends
    it right after the commit and then forgets it; if the process dies first, the lease runs out and the
    delivery runner sends it. None if this update's answer is already there (handled before)."""
    row = _row(REPLY, now, now, chat_id, {"messages": messages},
               {"telegram_user_id": telegram_user_id, "variant": str(update_id)})
    row.update(state=CLAIMED, claimed_by=worker, claimed_until=now + lease, attempts=1)
    return await s.scalar(_insert(s).values(**row).returning(col(Outbox.id)))


def sent_replies(db: Any) -> Batched[None]:  # db: bot.storage.db.Database
    """Forgets handlers' answers once sent, in group commits: answers sent at the same moment share one
    DELETE; each caller returns once its row is gone (so nothing can send it again)."""

    async def forget(ids: list[int]) -> dict[int, None]:
        try:
            async with db.session() as s:
                await forget_replies(s, ids)
        except Exception as exc:  # left claimed: after the lease the runner sends it again (twice, rarely)
            log.error("could not record %d sent answer(s) (%s)", len(ids), type(exc).__name__)
        return dict.fromkeys(ids)

    return Batched(forget)


async def forget_replies(s: AsyncSession, ids: list[int] | None = None) -> None:
    """Delete handlers' answers that need no more sending (sent, missed, failed): what they said is not
    kept. `ids`: these rows (just sent directly), else every finished one (those the runner sent)."""
    which = col(Outbox.id).in_(ids) if ids is not None else \
        col(Outbox.state).in_((SENT, DONE, MISSED, FAILED, CANCELLED))
    await s.execute(delete(Outbox).where(col(Outbox.kind) == REPLY, which))
