"""Operator commands: migrate, status, and the start-up checks of `run` (each failure is one line)."""

from __future__ import annotations

import json
import sys

from bot.clock import Clock
from bot.config import Settings, StartupError
from bot.logs import redact
from bot.storage.db import Database

__all__ = ["StartupError", "database_label", "migrate", "preflight", "status"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__)


def database_label(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: say which kind only
        return url.split(":", 1)[0]


def _missing_sqlite_folder(url: str) -> str | None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # a malformed URL: the database check below says so
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    folder = Path(parsed.database).parent
    return None if folder.is_dir() else str(folder)


async def preflight(settings: Settings, token: str) -> None:
    """Before `run` starts polling or the webhook: the database opens and is at the newest schema, and
    Telegram accepts the token. Raises StartupError with one line saying what to fix."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from bot.app import api_urls
    from bot.telegram_http import AiohttpRequest

    folder = _missing_sqlite_folder(settings.database_url)
    if folder is not None:  # said before aiosqlite fails on it (its worker thread may outlive the event loop)
        raise StartupError(f"cannot open the database {database_label(settings.database_url)} (the folder "
                           f"{folder} does not exist); check DATABASE_URL")
    db = Database(settings.database_url)
    try:
        await db.migrate()
    except Exception as exc:
        raise StartupError(f"cannot open the database {database_label(settings.database_url)} "
                           f"({_first_line(exc)}); check DATABASE_URL and that the server is running") from None
    finally:
        await db.dispose()
    urls = api_urls(settings)
    bot = Bot(token, request=AiohttpRequest(connection_pool_size=2), get_updates_request=AiohttpRequest(1), **urls)
    try:
        await bot.initialize()  # getMe
    except InvalidToken:
        raise StartupError("Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): it was revoked or mistyped. "
                           "Get the current token from @BotFather (/mybots -> API Token), put it in .env and "
                           "start again") from None
    except NetworkError as exc:  # TimedOut is a NetworkError
        raise StartupError(f"cannot reach the Telegram Bot API at {redact(urls['base_url'])}<token> "
                           f"({_first_line(exc)}); check TELEGRAM_API_BASE_URL (empty = api.telegram.org) "
                           "and the network") from None
    finally:
        await bot.shutdown()


async def migrate(settings: Settings) -> int:
    folder = _missing_sqlite_folder(settings.database_url)
    if folder is not None:  # said before aiosqlite fails on it (its worker thread may outlive the event loop)
        raise StartupError(f"cannot open the database {database_label(settings.database_url)} (the folder "
                           f"{folder} does not exist); check DATABASE_URL")
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
