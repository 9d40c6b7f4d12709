"""Shared set-up for the benchmarks: a database with N enrolled patients, a reminder due for each,
the Bot API stand-in on 127.0.0.1, and a bot (python-telegram-bot Application) pointed at it."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, make_url, text

from bot.app import build_application
from bot.clock import Clock
from bot.coaching.consent import CONSENT_VERSION
from bot.config import Settings
from bot.storage import outbox
from bot.storage.db import Database
from bot.storage.models import Patient
from rules import load_program
from telegram_standin import StandIn

TOKEN = "123456789:BENCHbenchBENCHbenchBENCHbench0000"
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def database_url(kind: str, name: str, *, fresh: bool = True) -> str:
    if kind == "postgres":
        return POSTGRES
    os.makedirs("bench/out", exist_ok=True)
    path = f"bench/out/{name}.db"
    for suffix in ("", "-wal", "-shm"):
        if fresh and os.path.exists(path + suffix):
            os.remove(path + suffix)
    return f"sqlite+aiosqlite:///{path}"


@contextlib.asynccontextmanager
async def scratch_postgres(label: str) -> AsyncIterator[str]:
    """A PostgreSQL database of this run's own (bench_<label>_<random>, next to BENCH_POSTGRES_URL's), dropped at
    the end: never `test` or a database the test suite uses. Yields its URL."""
    import asyncpg

    base = make_url(POSTGRES)
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = dict(host=base.host, port=base.port or 5432, user=base.username, password=base.password,
                 database="postgres")
    conn = await asyncpg.connect(**admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(**admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def fresh_database(url: str) -> Database:
    db = Database(url)
    if not db.sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.migrate()
    return db


async def seed(db: Database, patients: int, *, due: int | None = None, due_at: datetime = NOW,
               chunk: int = 5000, users: Sequence[int] | None = None, shown: bool = True) -> None:
    """`patients` enrolled patients (chat id = 100000 + i, or `users[i]`: e.g. LINE numbers, bench/line_fanout.py);
    the first `due` of them have a reminder due. With `shown` False nobody has seen their exercises' pictures
    yet (a first reminder: the pictures go with it).
    They have continued after their trial (status `active`) and have seen their exercises' pictures: a typical
    day, one message per reminder (a trial's first seven reminders also bring a lesson, bot/coaching/lessons.py,
    and a reminder with an exercise new to the patient its picture, bot/coaching/plan.py)."""
    seen = [x.id for x in load_program("knee").exercises] if shown else []
    number = list(users) if users is not None else [100000 + i for i in range(patients)]
    assert len(number) == patients
    due = patients if due is None else due
    start = time.perf_counter()
    for lo in range(0, patients, chunk):
        hi = min(lo + chunk, patients)
        async with db.session() as s:
            await s.execute(insert(Patient), [dict(
                telegram_user_id=number[i], chat_id=number[i], nickname=f"p{i}", condition="knee", usual_pain=3,
                timezone="Asia/Tokyo", exercise_time="09:00", morning_time="07:00", status="active", paused=False,
                unreachable=False, consent_at=NOW - timedelta(days=1), consent_version=CONSENT_VERSION,
                enrolled_at=NOW - timedelta(days=1),
                trial_ends_on=date(2026, 12, 14), rom=1, reps=1, load=1, speed=1, raise_history=[],
                exercises_shown=seen,
            ) for i in range(lo, hi)])
    async with db.session() as s:
        ids = (await s.execute(text("SELECT id, chat_id FROM patient ORDER BY id LIMIT :n"), {"n": due})).all()
    for lo in range(0, len(ids), chunk):
        async with db.session() as s:
            await outbox.schedule_many(s, [dict(
                kind="reminder", patient_id=pid, chat_id=chat, due_at=due_at, payload={"day": "2026-12-01"},
                local_date=date(2026, 12, 1), variant="09:00",
            ) for pid, chat in ids[lo:lo + chunk]], now=NOW - timedelta(days=1))
    print(f"seeded {patients} patients, {len(ids)} due, in {time.perf_counter() - start:.1f} s")


ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:  # loopback only
        return json.loads(r.read())


def wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def _answers(api: str) -> bool:
    try:
        get(f"{api}/stats")
        return True
    except OSError:
        return False


@contextlib.contextmanager
def standin_process(rate: float | None = None, *extra: str):
    """The stand-in as its own process (its CPU is not the bot's). Yields (base_url, test API url)."""
    port = free_port()
    cmd = [sys.executable, "-m", "telegram_standin", "--port", str(port), "--no-bodies", *extra]
    if rate:
        cmd += ["--global-rate", str(rate)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/_standin"
    try:
        wait_for(lambda: _answers(api), 20, "the stand-in")
        yield f"http://127.0.0.1:{port}/bot", api
    finally:
        proc.terminate()
        proc.wait(10)


def per_chat(api: str) -> dict[int, int]:
    return {c["chat_id"]: c["messages"] for c in get(f"{api}/chats")}


def make_app(standin: StandIn | str, url: str, clock: Clock, **overrides):
    """The bot's Application pointed at a stand-in (in-process object, or a base URL)."""
    base = standin if isinstance(standin, str) else standin.base_url
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=url,
                        telegram_api_base_url=base, **overrides)
    return build_application(settings, clock=clock, run_delivery_job=False, migrate=False)


def args(description: str, **defaults) -> argparse.Namespace:
    return _parser(description, **defaults).parse_args()


def _parser(description: str, **defaults) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default=defaults.get("db", "sqlite"))
    p.add_argument("-n", type=int, default=defaults.get("n", 1000))
    p.add_argument("--rate", type=float, default=defaults.get("rate", 30.0))
    p.add_argument("--no-limit", action="store_true", help="switch the outgoing rate limiter off")
    p.add_argument("--in-process", action="store_true", help="run the stand-in inside the bot's process")
    p.add_argument("--batch", type=int, default=defaults.get("batch", 500), help="DELIVERY_BATCH_SIZE")
    p.add_argument("--instances", type=int, default=1, help="bot processes (bench/crash.py)")
    return p


args.parser = _parser  # type: ignore[attr-defined]  # bench scripts call args.parser(...) for their flags


async def deliver_all(app, *, patience: float = 120.0) -> tuple[float, int]:
    """Run the app's delivery until no reminder row is waiting: rows put back after a 429 (or a
    timeout) are waited for until they fall due, up to `patience` seconds past the first pass.
    Returns (seconds from start to the last delivery, rows still waiting = deferred, not lost)."""
    import asyncio

    from sqlalchemy import func, select

    from bot.storage import outbox
    from bot.storage.models import Outbox

    runner = app.bot_data["delivery"]
    rt = app.bot_data["runtime"]
    start = time.perf_counter()
    await runner.run_until_idle(max_rounds=100000)
    elapsed = time.perf_counter() - start
    deadline = time.monotonic() + patience
    while True:
        async with rt.db.session() as s:
            waiting, due = (await s.execute(select(func.count(), func.min(Outbox.due_at)).where(
                Outbox.kind == "reminder", Outbox.state.in_([outbox.PENDING, outbox.CLAIMED]),
                Outbox.due_at <= rt.clock.now() + timedelta(seconds=patience)))).one()  # not tomorrow's
        if not waiting or time.monotonic() > deadline:
            return elapsed, waiting
        if due is not None:
            due = due if due.tzinfo else due.replace(tzinfo=UTC)
            await asyncio.sleep(min(max((due - rt.clock.now()).total_seconds(), 0.05), 5))
        else:
            await asyncio.sleep(1)
        if await runner.run_until_idle(max_rounds=100000):
            elapsed = time.perf_counter() - start


def cpu_seconds() -> float:
    """CPU time of this process (user + system), not wall time."""
    t = os.times()
    return t.user + t.system
