"""Operator commands: migrate and status."""

from __future__ import annotations

import json

from bot.clock import Clock
from bot.config import Settings
from bot.storage import outbox
from bot.storage.db import Database


async def migrate(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    print("database is at the newest schema")
    return 0


async def status(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        await db.migrate()
        async with db.session() as s:
            figures = await outbox.depth(s, Clock().now())
    finally:
        await db.dispose()
    print(json.dumps(figures, default=str, indent=2))
    return 0
