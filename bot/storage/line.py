"""LINE's tables: people on LINE and their numbers (`line_user`), the month's pushes (`line_usage`) and the
pictures and files hosted for LINE messages (`hosted_media`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.channels import LINE_ID_BASE
from bot.storage.db import insert_for, rowcount
from bot.storage.models import HostedMedia, LineUsage, LineUser, Patient


async def number_of(s: AsyncSession, line_user_id: str, now: datetime) -> int:
    """The number the bot knows this LINE user by (LINE_ID_BASE + a never-reused id), given on first contact.
    Two instances meeting a new user at once give one number (the unique LINE id decides)."""
    found = await s.scalar(select(LineUser.telegram_user_id).where(LineUser.line_user_id == line_user_id))
    if found is not None:
        return found
    # the number needs the row's id: insert with a placeholder unique per user, then set it
    placeholder = -1 - int.from_bytes(hashlib.sha256(line_user_id.encode()).digest()[:7], "big")
    await s.execute(insert_for(s, LineUser).values(line_user_id=line_user_id, telegram_user_id=placeholder,
                                                created_at=now).on_conflict_do_nothing(index_elements=["line_user_id"]))
    row = await s.scalar(select(LineUser).where(LineUser.line_user_id == line_user_id))
    assert row is not None
    if row.telegram_user_id < 0:
        row.telegram_user_id = LINE_ID_BASE + row.id
        await s.flush()
    return row.telegram_user_id


async def line_id_of(s: AsyncSession, number: int) -> str | None:
    """LINE's user id behind a number (None: erased, or never a LINE user)."""
    return await s.scalar(select(LineUser.line_user_id).where(LineUser.telegram_user_id == number))


async def set_blocked(s: AsyncSession, line_user_id: str, at: datetime | None) -> int | None:
    """Record that the person blocked the account (an unfollow) or came back (`at` None); their number."""
    await s.execute(update(LineUser).where(col(LineUser.line_user_id) == line_user_id).values(blocked_at=at))
    return await s.scalar(select(LineUser.telegram_user_id).where(LineUser.line_user_id == line_user_id))


# --- the month's pushes -------------------------------------------------------------------------------

async def count(s: AsyncSession, month: str, *, pushes: int = 0, replies: int = 0, held: int = 0) -> LineUsage:
    """Add to this month's counts (one statement, safe with several instances); the counts after it."""
    values = {"pushes": pushes, "replies": replies, "held": held}
    stmt = insert_for(s, LineUsage).values(month=month, warned=0, **values)
    table = LineUsage.__table__.c  # type: ignore[attr-defined]  # SQLModel's table, set at class creation
    await s.execute(stmt.on_conflict_do_update(
        index_elements=["month"], set_={k: table[k] + stmt.excluded[k] for k in values}))
    row = await s.get(LineUsage, month, populate_existing=True)
    assert row is not None
    return row


async def usage(s: AsyncSession, month: str) -> LineUsage:
    return await s.get(LineUsage, month) or LineUsage(month=month)


async def raise_warning(s: AsyncSession, month: str, level: int) -> bool:
    """Mark that the clinic was told about `level` this month; False if it already was (by any instance)."""
    result = await s.execute(update(LineUsage).where(col(LineUsage.month) == month, col(LineUsage.warned) < level)
                             .values(warned=level))
    return bool(rowcount(result))


async def _month_row(s: AsyncSession, month: str) -> None:
    """The month's row, made with zero counts if it is not there yet."""
    await s.execute(insert_for(s, LineUsage).values(month=month, pushes=0, replies=0, held=0, warned=0)
                    .on_conflict_do_nothing(index_elements=["month"]))


async def reserve(s: AsyncSession, month: str, limit: int) -> int | None:
    """Count one push if the month's pushes are below `limit` (the check and the count are one UPDATE: instances
    never overshoot it together); the count after it, or None when the limit is reached."""
    await _month_row(s, month)
    result = await s.execute(update(LineUsage).where(col(LineUsage.month) == month, col(LineUsage.pushes) < limit)
                             .values(pushes=col(LineUsage.pushes) + 1).returning(col(LineUsage.pushes)))
    return result.scalar_one_or_none()


async def at_least(s: AsyncSession, month: str, pushes: int) -> None:
    """LINE counted more than we did (messages sent from LINE Official Account Manager): take its count."""
    await _month_row(s, month)
    await s.execute(update(LineUsage).where(col(LineUsage.month) == month, col(LineUsage.pushes) < pushes)
                    .values(pushes=pushes))


# --- pictures and files LINE fetches ------------------------------------------------------------------

async def host(s: AsyncSession, *, token: str, user: int, content_type: str, file_name: str, content: bytes,
               now: datetime, expires_at: datetime) -> None:
    await s.execute(insert_for(s, HostedMedia).values(
        token=token, telegram_user_id=user, content_type=content_type, file_name=file_name, content=content,
        created_at=now, expires_at=expires_at).on_conflict_do_nothing(index_elements=["token"]))


async def hosted(s: AsyncSession, token: str, now: datetime) -> HostedMedia | None:
    row = await s.get(HostedMedia, token)
    return row if row is not None and row.expires_at > now else None


async def purge_hosted(s: AsyncSession, now: datetime) -> None:
    await s.execute(delete(HostedMedia).where(col(HostedMedia.expires_at) <= now))


async def line_patients(s: AsyncSession) -> list[tuple[int, int]]:
    """(patient id, chat id) of every patient on LINE who is on a program and reachable."""
    rows = await s.execute(select(Patient.id, Patient.chat_id).where(
        col(Patient.telegram_user_id) >= LINE_ID_BASE, col(Patient.status).in_(("trial", "active")),
        col(Patient.unreachable).is_(False)).order_by(col(Patient.id)))
    return [(int(pid), int(chat)) for pid, chat in rows.all()]
