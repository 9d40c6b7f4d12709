"""Honest write failures (issue 13): when the database takes no writes (read-only, full disk), the patient is
told that nothing was saved and to try again, nothing is half-stored, the log has no SQL parameters, and
/health answers 503 (and `python -m bot status` says so) until a write succeeds again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import timedelta

import aiohttp
from sqlalchemy import event

from bench.common import free_port
from bot.storage.db import Database, WriteHealth
from bot.storage.models import ExerciseSession, Prompt
from tests.e2e.test_bad_input import msg, snapshot, start_session
from tests.harness import Coach
from tests.helpers import START, USER


@contextlib.contextmanager
def read_only(db: Database) -> Iterator[None]:
    """The database refuses every write, as a read-only database does (SQLite `query_only`, PostgreSQL
    `READ ONLY` transactions): reads work, the first INSERT/UPDATE/DELETE fails. Afterwards each transaction
    is writable again (the setting is per connection on SQLite, so it is switched back, not just left)."""
    on = [True]

    def begin(conn) -> None:
        if db.sqlite:
            conn.exec_driver_sql(f"PRAGMA query_only={'ON' if on[0] else 'OFF'}")
        elif on[0]:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    event.listen(db.engine.sync_engine, "begin", begin)
    try:
        yield
    finally:
        on[0] = False


async def health(port: int) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/health") as response:
        return response.status, await response.json()


async def test_a_rating_the_database_cannot_store_is_reported_as_not_saved(standin, database_url, caplog):
    port = free_port()
    coach = await Coach(standin, database_url, START, health_port=port).start()
    try:
        await start_session(coach)
        assert (await health(port))[0] == 200
        before = await snapshot(coach)
        with read_only(coach.rt.db), caplog.at_level(logging.ERROR):
            replies = await coach.press(USER, "5")
            assert [r.body for r in replies] == [msg("common.not_saved")]
            assert "記録は失われていません" not in msg("common.not_saved") + msg("common.error")
            assert await snapshot(coach) == before  # nothing half-stored: the question is still open
            status, body = await health(port)
            assert status == 503 and body["writes_failing"] and body["write_failures"] >= 1
            replies = await coach.text(USER, "5")  # typed, the same answer
            assert [r.body for r in replies] == [msg("common.not_saved")]
        assert "not saved: the database failed" in caplog.text and "read" in caplog.text  # readonly / read-only
        assert "hide_parameters" in caplog.text and "[parameters:" not in caplog.text  # no values logged

        [reply] = await coach.press(USER, "5")  # writable again: the same tap is stored now, once
        assert msg("decision.hold.start", limit=5, before=5) in reply.body
        [session] = await coach.rows(ExerciseSession)
        assert session.before == 5
        assert await coach.count(Prompt, Prompt.answer == "5") == 1
        status, body = await health(port)
        assert status == 200 and not body["writes_failing"]
    finally:
        await coach.stop()


async def test_status_shows_a_read_only_database_and_the_running_bots_failures(standin, sqlite_url, tmp_path):
    port = free_port()
    coach = await Coach(standin, sqlite_url, START, health_port=port).start()
    try:
        await start_session(coach)
        with read_only(coach.rt.db):
            await coach.press(USER, "5")

            path = sqlite_url.split("///", 1)[1]
            env = {"DATABASE_URL": f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true", "HEALTH_PORT": str(port),
                   "PATH": "/usr/bin:/bin"}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "status", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        figures = json.loads(out)
        assert figures["writes_failing"] is True  # its own write, tried and rolled back, was refused
        assert figures["running_bot"]["writes_failing"] is True and figures["running_bot"]["write_failures"] >= 1
    finally:
        await coach.stop()


def test_write_health_recovers_after_a_write_or_after_the_window():
    now = [START]
    writes = WriteHealth(lambda: now[0])
    assert not writes.failing
    writes.failed(OSError("disk full"))
    assert writes.failing
    now[0] += timedelta(minutes=1)
    writes.succeeded()
    assert not writes.failing
    writes.failed(OSError("disk full"))
    now[0] += timedelta(minutes=6)  # no write tried since: no longer reported as failing
    assert not writes.failing and writes.failures == 2
