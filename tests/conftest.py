"""Shared fixtures: the Bot API stand-in, a database per test (SQLite, and PostgreSQL where a server is
given), and a running coach."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from bot.standin import StandIn
from tests.harness import Coach
from tests.logscan import log_scan  # noqa: F401  (every e2e test's log output is scanned for leaks)

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# 2026-12-01 08:00 in Tokyo (a Tuesday): before a 09:00 reminder.
START = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


async def _reset_postgres(url: str) -> str | None:
    """Empty the test database; None if fine, else why PostgreSQL cannot be used."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"no PostgreSQL server at {dsn} ({type(exc).__name__}: {exc}); set TEST_POSTGRES_URL"
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return None


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"
    problem = await _reset_postgres(POSTGRES_URL)
    if problem:
        pytest.skip(problem)
    return POSTGRES_URL


@pytest.fixture
async def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"


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
