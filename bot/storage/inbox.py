"""The inbox: every update from Telegram, committed before Telegram is told it arrived (bot/updates.py).

A row is stored (`store`), handled, and marked done in the handler's own transaction (`done`), which also
clears the raw update (what the person sent). A restart handles again exactly the rows not done (`pending`).
Done rows are deleted (`purge`) once Telegram cannot send their update again: below an offset Telegram has
confirmed (polling), or a day after they were done (Telegram keeps an update for at most 24 hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.storage.db import insert_for
from bot.storage.models import Inbox

KEEP_DONE = timedelta(days=1)


def sender(update: dict[str, Any]) -> int | None:
    """The Telegram user an update is from (for /mydata and /delete), None for channel posts and the like."""
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            user_id = value["from"].get("id")
            return user_id if isinstance(user_id, int) else None
    return None


async def store(s: AsyncSession, updates: list[dict[str, Any]], now: datetime) -> set[int]:
    """Insert these raw updates; the ids of those that were new. One stored already (Telegram sending it
    again because its confirmation was lost) is not stored, or handled, twice."""
    if not updates:
        return set()
    stmt = insert_for(s, Inbox).values([dict(update_id=u["update_id"], telegram_user_id=sender(u), update=u,
                                      received_at=now) for u in updates])
    return set(await s.scalars(stmt.on_conflict_do_nothing(index_elements=["update_id"])
                               .returning(col(Inbox.update_id))))


async def done(s: AsyncSession, update_ids: list[int], now: datetime) -> None:
    """Mark updates handled and forget what they said (in the handler's transaction, or after it)."""
    await s.execute(update(Inbox).where(col(Inbox.update_id).in_(update_ids), col(Inbox.done_at).is_(None))
                    .values(done_at=now, update=null()))


async def pending(s: AsyncSession) -> list[dict[str, Any]]:
    """The raw updates stored and not yet handled, oldest first."""
    rows = await s.scalars(select(col(Inbox.update)).where(col(Inbox.done_at).is_(None)).order_by(col(Inbox.update_id)))
    return [u for u in rows if u is not None]


async def purge(s: AsyncSession, now: datetime, *, confirmed_below: int | None = None) -> None:
    """Delete done rows Telegram cannot send again: below a confirmed offset, or done over a day ago."""
    old = col(Inbox.done_at) < now - KEEP_DONE
    # LINE's events have negative numbers (bot/line/events.py): kept a day, as LINE may send them again
    gone = old if confirmed_below is None else \
        or_(old, and_(col(Inbox.update_id) >= 0, col(Inbox.update_id) < confirmed_below))
    await s.execute(delete(Inbox).where(and_(col(Inbox.done_at).is_not(None), gone)))
