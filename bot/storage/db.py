"""Engine and sessions. One AsyncSession per update or delivery; SQLite tuned for a small clinic."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 7_243_001  # pg advisory lock id held while migrating


def insert_for(s: AsyncSession, target: Any) -> Any:
    """An INSERT into `target` (a model or a table) in this session's dialect, so it can say ON CONFLICT (DO NOTHING
    or DO UPDATE): PostgreSQL's or SQLite's, which SQLAlchemy's generic INSERT cannot."""
    return (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(target)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT touched (AsyncSession.execute is typed as returning a
    plain Result; for these statements it is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount or 0


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """`hide_parameters`: a failed statement's error (and so its log line) never shows the values, which
    are pain ratings, nicknames and signup answers."""
    if is_sqlite(url):
        # SQLite has one writer at a time. One pooled connection makes tasks queue in-process (cheap)
        # instead of contending for the file lock (SQLite's busy handler sleeps in steps).
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, pool_size=1, max_overflow=0,
                                     pool_timeout=120, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True,
                               hide_parameters=True)


def storage_failure(exc: BaseException) -> bool:
    """The database could not do its job (read-only, full disk, unreachable), as opposed to a bug or a
    conflict in our own statements (integrity, programming and data errors)."""
    if isinstance(exc, DBAPIError):
        return not isinstance(exc, IntegrityError | ProgrammingError | DataError)
    return isinstance(exc, OSError)


WRITE_FAILURE_WINDOW = timedelta(minutes=5)


class WriteHealth:
    """Whether writes are failing, for /health and `python -m bot status`: failing while the last storage
    failure came after the last successful write and is younger than WRITE_FAILURE_WINDOW. `now` is the bot's
    clock (Runtime sets it), so tests move time instead of waiting."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.now = now
        self.failures = 0  # since this process started
        self.last_failure: datetime | None = None
        self.last_failure_kind: str | None = None
        self._failed_after_success = False

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        self.last_failure, self.last_failure_kind = self.now(), type(exc).__name__
        self._failed_after_success = True

    def succeeded(self) -> None:
        self._failed_after_success = False

    @property
    def failing(self) -> bool:
        last = self.last_failure
        return self._failed_after_success and last is not None and self.now() - last < WRITE_FAILURE_WINDOW

    def figures(self) -> dict[str, Any]:
        return {"writes_failing": self.failing, "write_failures": self.failures,
                "last_write_failure_at": self.last_failure, "last_write_failure": self.last_failure_kind}


class Database:
    """The engine plus a session factory; kept in `application.bot_data["db"]`. `writes` follows whether
    writes succeed (every session that wrote and committed) or fail (a storage failure in a session)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self.writes = WriteHealth()
        event.listen(self.engine.sync_engine, "after_cursor_execute", _note_write)
        event.listen(self.engine.sync_engine, "begin", lambda conn: conn.info.pop("wrote", None))

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on error. A storage failure
        (bot/storage/db.py:storage_failure) is counted in `writes`, as is a committed write."""
        wrote = False
        try:
            async with self._sessions() as s, s.begin():
                yield s
                wrote = _wrote(s)
        except BaseException as exc:
            if storage_failure(exc):
                self.writes.failed(exc)
            raise
        if wrote:
            self.writes.succeeded()

    async def probe_write(self) -> None:
        """Try one write and roll it back (for `python -m bot status`): a read-only database fails here and
        is counted in `writes`. A full disk may only show at a real commit (the running bot's /health)."""
        try:
            async with self.engine.connect() as conn:
                async with conn.begin() as trans:
                    await conn.execute(text("INSERT INTO erasure (day, count) VALUES ('1900-01-01', 0)"))
                    await trans.rollback()
        except Exception as exc:
            if storage_failure(exc):
                self.writes.failed(exc)
            raise
        self.writes.succeeded()

    async def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision`, by default the newest (Alembic is the only way the schema is made)."""
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        async with migration_connection(self.engine) as conn:
            await conn.run_sync(lambda sync_conn: _upgrade(cfg, sync_conn, revision))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        conn.info["wrote"] = True


def _wrote(s: AsyncSession) -> bool:
    """Whether this session's connection ran an INSERT, UPDATE or DELETE (the mark is taken off)."""
    trans = s.sync_session.get_transaction()
    if trans is None:
        return False
    return any([conn.info.pop("wrote", False) for conn, *_ in trans._connections.values()])


@asynccontextmanager
async def migration_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction to migrate on.

    PostgreSQL: several instances starting at once: one migrates, the others wait (advisory lock).
    SQLite: foreign keys are off while migrating, because changing a table means rebuilding it (copy, drop,
    rename) and dropping a table that others reference would fail; they are checked before the commit.
    The pragma only takes effect outside a transaction, hence before `begin()`.
    """
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                if not sqlite:
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                yield conn
                if sqlite and (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first() is not None:
                    raise RuntimeError("migration left rows whose foreign keys point nowhere; rolled back")
        finally:
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()


def _upgrade(cfg, connection, revision: str = "head") -> None:
    from alembic import command

    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
