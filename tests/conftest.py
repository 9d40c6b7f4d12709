"""Shared fixtures: the Bot API stand-in, a migrated database per test (SQLite, and PostgreSQL where a server
answers), and a running coach. How the databases are made once per run: tests/databases.py.

PostgreSQL: set TEST_POSTGRES_URL to any database on the server to use (default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres); each run creates and drops its own databases there.
"""

from __future__ import annotations

import functools
from datetime import datetime

import httpx._transports.default
import pytest

from telegram_standin import StandIn
from tests.databases import PostgresRun, SharedCompiledSql, SqliteTemplate
from tests.harness import Coach
from tests.helpers import START
from tests.logscan import log_scan  # noqa: F401  (every e2e test's log output is scanned for leaks)

# httpx makes a new SSL context for every client it builds, loading the whole CA bundle (~50 ms), and PTB builds
# one (its getUpdates request) for every Application: one per coach. The tests speak plain HTTP to 127.0.0.1,
# so one default context per worker serves them all; the arguments still choose it (verify, cert, trust_env).
httpx._transports.default.create_ssl_context = functools.cache(httpx._transports.default.create_ssl_context)
SharedCompiledSql().install()  # every test's engine compiles its statements afresh otherwise (tests/databases.py)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_run():
    run = PostgresRun().start()
    yield run
    run.finish()


async def _postgres(request) -> PostgresRun:
    run: PostgresRun = request.getfixturevalue("postgres_run")  # only runs that use PostgreSQL connect to it
    if run.problem:
        pytest.skip(run.problem)
    return run


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path) -> str:
    """A migrated database with no rows, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_template").copy(tmp_path / "coach.db")
    return await (await _postgres(request)).emptied()


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database_url(request, tmp_path) -> str:
    """A database with no schema at all, for tests that run the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    return await (await _postgres(request)).fresh()


@pytest.fixture
async def sqlite_url(sqlite_template, tmp_path) -> str:
    """A migrated SQLite database with no rows."""
    return sqlite_template.copy(tmp_path / "coach.db")


@pytest.fixture
async def standin():
    async with StandIn(token=None) as server:
        yield server


@pytest.fixture
async def coach(standin, database_url):
    c = await Coach(standin, database_url, START).start()
    yield c
    await c.stop()


@pytest.fixture
def coach_start() -> datetime:
    return START
