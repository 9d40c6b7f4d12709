"""Messengers' ids for pictures they already have (`media_file`): Telegram's file_id after the first upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.storage.db import insert_for
from bot.storage.models import MediaFile

KEY = ["channel", "picture_id", "content_hash"]


async def file_id(s: AsyncSession, channel: str, picture_id: str, content_hash: str) -> str | None:
    return await s.scalar(select(MediaFile.file_id).where(
        MediaFile.channel == channel, MediaFile.picture_id == picture_id, MediaFile.content_hash == content_hash))


async def remember(s: AsyncSession, channel: str, picture_id: str, content_hash: str, file_id: str,
                   now: datetime) -> None:
    """Keep the id (the first one stays when two instances uploaded the same picture at once)."""
    row = dict(channel=channel, picture_id=picture_id, content_hash=content_hash, file_id=file_id, created_at=now)
    await s.execute(insert_for(s, MediaFile).values(**row).on_conflict_do_nothing(index_elements=KEY))


async def forget(s: AsyncSession, channel: str, picture_id: str, content_hash: str) -> None:
    await s.execute(delete(MediaFile).where(
        col(MediaFile.channel) == channel, col(MediaFile.picture_id) == picture_id,
        col(MediaFile.content_hash) == content_hash))
