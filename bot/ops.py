"""Operator commands: migrate, status, backup, and the start-up checks of `run` (each failure is one line)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bot.clock import Clock
from bot.config import Settings, StartupError
from bot.logs import redact
from bot.storage.db import Database, is_sqlite

__all__ = ["StartupError", "backup", "database_label", "migrate", "preflight", "status", "warnings"]

log = logging.getLogger("bot.ops")


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


async def warnings(settings: Settings, db: Database) -> list[str]:
    """What runs but is not safe yet, one line each (start-up logs them, `status` prints them):
    the clinic's contact for red-flag advice not set; alerts with nowhere to go."""
    from bot.storage import clinicians

    out = []
    missing = settings.missing_clinic_settings()
    if missing:
        out.append(f"{', '.join(missing)} not set: red-flag advice shows a placeholder instead of the clinic's "
                   "contact; set them in .env")
    if settings.staff_chat_id is None and not settings.admin_telegram_ids:
        async with db.session() as s:
            n = len(await clinicians.active_list(s))
        reach = "alerts have nowhere to go" if n == 0 else \
            "alerts about patients without a clinician have nowhere to go"
        out.append(f"no STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS{' and no clinician' if n == 0 else ''}: {reach}; "
                   "set STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS")
    return out


async def preflight(settings: Settings, token: str) -> None:
    """Before `run` starts polling or the webhook: the database opens and is at the newest schema, and
    Telegram accepts the token. Raises StartupError with one line saying what to fix. Once all passed, what
    runs but is not safe yet (`warnings`) is logged as warnings (a failed start-up stays one line)."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    from bot.app import api_urls
    from bot.telegram_http import AiohttpRequest

    _require_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    try:
        await db.migrate()
    except Exception as exc:
        raise StartupError(f"cannot open the database {database_label(settings.database_url)} "
                           f"({_first_line(exc)}); check DATABASE_URL and that the server is running") from None
    finally:
        await db.dispose()
    urls = api_urls(settings)
    bot = Bot(token, request=AiohttpRequest(connection_pool_size=2), get_updates_request=AiohttpRequest(1),
              base_url=urls["base_url"], base_file_url=urls["base_file_url"])
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
    db = Database(settings.database_url)  # everything checked: what runs but is not safe yet is logged
    try:
        for line in await warnings(settings, db):
            log.warning("%s", line)
    finally:
        await db.dispose()


def _require_sqlite_folder(url: str) -> None:
    """A SQLite file in a folder that does not exist is named in one line before aiosqlite fails on it (its
    worker thread may outlive the event loop and print a traceback)."""
    folder = _missing_sqlite_folder(url)
    if folder is not None:
        raise StartupError(f"cannot open the database {database_label(url)} (the folder {folder} does not exist); "
                           "check DATABASE_URL")


async def migrate(settings: Settings) -> int:
    _require_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    print("database is at the newest schema")
    return 0


async def status(settings: Settings) -> int:
    """Queue depth, last delivery and failures, read from the database (any instance's, all of them); whether
    the database takes writes (one write tried and rolled back: `writes_failing`), and with HEALTH_PORT set
    the running bot's /health (its recent write failures)."""
    from bot.health import figures
    from bot.runtime import Runtime

    rt = Runtime(settings=settings, db=Database(settings.database_url), clock=Clock())
    try:
        with contextlib.suppress(Exception):  # counted in rt.db.writes, reported below
            await rt.db.probe_write()
        found = await figures(rt)
        found["warnings"] = await warnings(settings, rt.db)
        if settings.health_port:  # the running bot's own view (a full disk shows there, at its commits)
            found["running_bot"] = _running_health(settings.health_port)
        print(json.dumps(found, default=str, indent=2, ensure_ascii=False))
        for line in found["warnings"]:
            print(f"itami-coach: warning: {line}", file=sys.stderr)
    except Exception as exc:
        print(f"itami-coach: cannot read the queue ({type(exc).__name__}); is the database migrated?",
              file=sys.stderr)
        return 1
    finally:
        await rt.db.dispose()
    return 0


def _running_health(port: int) -> dict | str:
    """GET /health of the bot running on this machine (HEALTH_PORT), or why it could not be read."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:  # loopback only
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: unhealthy, the body says why
        return json.loads(exc.read() or b"{}")
    except (OSError, ValueError) as exc:
        return f"not answering on 127.0.0.1:{port} ({type(exc).__name__})"


def default_backup_path(settings: Settings, now: datetime) -> Path:
    from sqlalchemy.engine import make_url

    stem = Path(make_url(settings.database_url).database or "coach").stem if is_sqlite(settings.database_url) \
        else make_url(settings.database_url).database or "coach"
    suffix = ".db" if is_sqlite(settings.database_url) else ".dump"
    return Path("backups") / f"{stem}-{now.strftime('%Y%m%dT%H%M%SZ')}{suffix}"


def backup(settings: Settings, path: str | None = None) -> int:
    """`python -m bot backup [PATH]`: a consistent copy of the database, safe while the bot runs.

    SQLite: the sqlite3 online backup API (a snapshot of one moment, WAL included), checked with
    `PRAGMA integrity_check`. PostgreSQL: `pg_dump -Fc` when it is on PATH, else how to run it.
    The copy holds health data: it is written readable by its owner only (0600)."""
    from sqlalchemy.engine import make_url

    target = Path(path) if path else default_backup_path(settings, Clock().now())
    if target.exists():
        raise StartupError(f"{target} already exists; give another PATH (a backup never overwrites a file)")
    url = make_url(settings.database_url)
    if not is_sqlite(settings.database_url):
        return _pg_dump(settings.database_url, target)
    source = url.database
    if not source or source == ":memory:" or not Path(source).exists():
        raise StartupError(f"no SQLite database at {source!r}; check DATABASE_URL")
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        os.chmod(target, 0o600)
        src.backup(dst)  # pages copied under a read lock; writers in WAL mode go on meanwhile
        (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        tables = [r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = sum(dst.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables)
    if check != "ok":
        raise StartupError(f"the copy at {target} failed its integrity check ({check}); it is not a backup")
    print(f"backup written: {target} ({len(tables)} tables, {rows} rows). Restore: stop the bot, copy it over "
          f"{source} (remove {source}-wal and {source}-shm), start the bot.")
    return 0


def _pg_dump(database_url: str, target: Path) -> int:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=True).replace(":***@", "@")
    restore = (f"Restore into an empty database: createdb NEWDB && pg_restore --no-owner -d NEWDB {target} "
               "(or, over the same database with the bot stopped: pg_restore --clean --if-exists --no-owner "
               f"-d {url.database} {target}).")
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        print("itami-coach: pg_dump is not installed here. On a machine with the PostgreSQL client tools, run:\n"
              f"  PGPASSWORD=... pg_dump -Fc --file {target} '{libpq}'\n  {restore}", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    result = subprocess.run([pg_dump, "-Fc", "--file", str(target), libpq], env=env, capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        problem = redact((result.stderr.strip().splitlines() or ["failed"])[-1])
        raise StartupError(f"pg_dump could not back up {database_label(database_url)}: {problem}")
    os.chmod(target, 0o600)
    print(f"backup written: {target} (pg_dump custom format). {restore}")
    return 0
