"""The databases of one test run, so that runs never share one and the schema is migrated once per run.

- SQLite: the schema is migrated once into a template file; each test gets a copy of it (a file copy).
- PostgreSQL: on the server given by ``TEST_POSTGRES_URL`` (its database is only where we connect to
  create ours; default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``), each run (each xdist
  worker) creates its own database ``itami_test_<pid>_<random>``, migrates it once, empties it before each
  test (DELETE in foreign-key order and sequences reset: ~10 ms, where TRUNCATE took ~100 ms and CREATE
  DATABASE ... TEMPLATE plus DROP far more) and drops it at the end; databases left by runs that were killed
  (their pid is gone) are dropped when the next run starts. Tests that need a database with no
  schema at all (the migration tests) get a fresh one, dropped at the end of the run as well.

Tests are skipped, with the reason, only where no PostgreSQL server answers; a server that answers but
refuses us (authentication, permissions) fails the run, so a misconfiguration is not mistaken for a pass.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.util import LRUCache

from bot.storage import db as storage_db
from bot.storage.db import Database

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 5


def server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_SERVER)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


LEFTOVER = re.compile(r"^itami_test_(\d+)_[0-9a-f]{6}(?:_fresh\d+)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def run_once(coroutine):
    """Run set-up or tear-down to the end in its own event loop, also when a test's loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await db.migrate()
    finally:
        await db.dispose()


class SharedCompiledSql:
    """One cache of compiled SQL for every engine of this process (worker).

    SQLAlchemy caches a statement's compiled SQL per engine, keyed by the engine's dialect object, and every coach
    makes its own engine: each test compiled again each of the ~50 statements a journey runs (5-8 % of an
    end-to-end test's CPU). Here dialects of the same class and server version share an entry, as engines of
    one process in production share theirs; what is compiled is the same SQL either way.
    """

    def __init__(self, size: int = 5000) -> None:
        self._cache = LRUCache(size)

    @staticmethod
    def _key(key: tuple) -> tuple:
        dialect = key[0]
        return (type(dialect), dialect.server_version_info, *key[1:])

    def get(self, key: tuple, default=None):
        return self._cache.get(self._key(key), default)

    def __setitem__(self, key: tuple, value) -> None:
        self._cache[self._key(key)] = value

    def install(self) -> None:
        """Every engine `bot.storage.db.make_engine` makes from now on (in this process) uses this cache."""
        make_engine = storage_db.make_engine

        def sharing(url: str, **kw):
            engine = make_engine(url, **kw)
            engine.sync_engine.update_execution_options(compiled_cache=self)
            return engine

        storage_db.make_engine = sharing


class SqliteTemplate:
    """A migrated SQLite file; `copy(path)` gives a test its own migrated database."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.db"
        run_once(migrate(f"sqlite+aiosqlite:///{self.path}"))  # disposing checkpoints the WAL into the file

    def copy(self, path: Path) -> str:
        shutil.copyfile(self.path, path)
        return f"sqlite+aiosqlite:///{path}"


class PostgresRun:
    """This run's databases on the server of TEST_POSTGRES_URL (see the module docstring)."""

    def __init__(self, url: str | None = None) -> None:
        self.server = url or server_url()
        self.prefix = f"itami_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.created: list[str] = []
        self.problem: str | None = None  # why PostgreSQL cannot be used in this run
        self.url: str | None = None  # the migrated database the tests share, emptied before each test
        self._empty_sql: str | None = None
        self._fresh = 0

    # --- set-up and tear-down (synchronous: run once per run, outside the tests' event loops) -------------
    def start(self) -> PostgresRun:
        self.problem = run_once(self._reachable())
        if self.problem is None:
            run_once(self._drop_leftovers())
            self.url = run_once(self._create(self.prefix))
            run_once(migrate(self.url))
            self._empty_sql = run_once(self._emptying_sql(self.url))
        return self

    def finish(self) -> None:
        if self.created:
            run_once(self._drop_all())

    async def _admin(self):
        """A connection to the server for CREATE/DROP DATABASE (to the URL's database, else `postgres`)."""
        import asyncpg

        try:
            return await asyncpg.connect(_dsn(self.server), timeout=CONNECT_TIMEOUT)
        except asyncpg.InvalidCatalogNameError:  # the URL names a database that is gone: the server is enough
            return await asyncpg.connect(_dsn(with_database(self.server, "postgres")), timeout=CONNECT_TIMEOUT)

    async def _reachable(self) -> str | None:
        try:
            conn = await self._admin()
        except (OSError, TimeoutError) as exc:
            return (f"no PostgreSQL server answers at {make_url(self.server).render_as_string()} "
                    f"({type(exc).__name__}: {exc}); set TEST_POSTGRES_URL to use another server")
        await conn.close()
        return None

    async def _drop_leftovers(self) -> None:
        """Databases of earlier runs on this machine whose process is gone (killed before it could drop them).
        Only on a server on this machine (loopback or a socket), where the pid in the name means a process here."""
        if (make_url(self.server).host or "localhost") not in ("127.0.0.1", "localhost", "::1"):
            return
        import asyncpg

        conn = await self._admin()
        try:
            names = [r["datname"] for r in await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'itami\\_test\\_%'")]
            for name in names:
                found = LEFTOVER.match(name)
                if found is None or _alive(int(found[1])):
                    continue
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except asyncpg.PostgresError:  # another run is dropping it too
                    pass
        finally:
            await conn.close()

    async def _create(self, name: str) -> str:
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return with_database(self.server, name)

    async def _drop_all(self) -> None:
        conn = await self._admin()
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        self.created.clear()

    @staticmethod
    async def _emptying_sql(url: str) -> str:
        """DELETE from every table, children before parents, and restart every sequence (ids start at 1)."""
        import asyncpg

        conn = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT)
        try:
            tables = [r["t"] for r in await conn.fetch(
                "SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename")]
            edges = await conn.fetch(
                "SELECT quote_ident(c.relname) AS child, quote_ident(p.relname) AS parent FROM pg_constraint k "
                "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
                "WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace AND c.oid <> p.oid")
            sequences = [r["s"] for r in await conn.fetch(
                "SELECT quote_literal(quote_ident(sequencename)) AS s FROM pg_sequences WHERE schemaname = 'public'")]
        finally:
            await conn.close()
        children: dict[str, set[str]] = {t: set() for t in tables}
        for edge in edges:
            children.setdefault(edge["parent"], set()).add(edge["child"])
        order: list[str] = []

        def visit(table: str, path: tuple[str, ...] = ()) -> None:  # children first
            if table in order or table in path:
                return
            for child in sorted(children.get(table, ())):
                visit(child, (*path, table))
            order.append(table)

        for table in tables:
            visit(table)
        statements = [f"DELETE FROM {t}" for t in order]
        statements += [f"SELECT setval({s}, 1, false)" for s in sequences]
        return "SET lock_timeout = '20s'; " + "; ".join(statements)

    # --- per test (in the test's event loop) --------------------------------------------------------------
    async def emptied(self) -> str:
        """The run's migrated database, with no rows left by an earlier test."""
        import asyncpg

        assert self.url is not None and self._empty_sql is not None
        conn = await asyncpg.connect(_dsn(self.url), timeout=CONNECT_TIMEOUT)
        try:
            async with conn.transaction():
                await conn.execute(self._empty_sql)
        finally:
            await conn.close()
        return self.url

    async def fresh(self) -> str:
        """A new database with no schema at all (for the migration tests), dropped at the end of the run."""
        self._fresh += 1
        return await self._create(f"{self.prefix}_fresh{self._fresh}")
