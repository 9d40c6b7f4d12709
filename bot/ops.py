"""Operator commands: migrate and status."""

from __future__ import annotations

import json
import sys

from bot.clock import Clock
from bot.config import Settings
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
    """Queue depth, last delivery and failures, read from the database (any instance's, all of them)."""
    from bot.health import figures
    from bot.runtime import Runtime

    rt = Runtime(settings=settings, db=Database(settings.database_url), clock=Clock())
    try:
        print(json.dumps(await figures(rt), default=str, indent=2))
    except Exception as exc:
        print(f"itami-coach: cannot read the queue ({type(exc).__name__}); is the database migrated?",
              file=sys.stderr)
        return 1
    finally:
        await rt.db.dispose()
    return 0
