"""Exactly once under pressure: two instances claiming the same queue, and Telegram misbehaving
(5xx, slow answers, a burst of 429s, blocked users)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from bench.common import NOW, make_app, seed
from bot.clock import Clock
from bot.storage.db import Database
from bot.storage.models import Outbox, Patient
from telegram_standin import Faults

N = 150


async def _apps(standin, url: str, count: int):
    clock = Clock(frozen_at=NOW)
    apps = []
    for i in range(count):
        app = make_app(standin, url, clock, rate_limit_enabled=False, delivery_batch_size=20)
        await app.initialize()
        await app.post_init(app)
        app.bot_data["runtime"].worker_id = f"instance-{i}"
        apps.append(app)
    return clock, apps


async def _close(apps) -> None:
    for app in apps:
        await app.shutdown()
        await app.post_shutdown(app)


async def _seeded(url: str) -> None:
    db = Database(url)
    await db.migrate()
    await seed(db, N)
    await db.dispose()


def reminders_per_chat(standin) -> Counter:
    return Counter(m.chat_id for m in standin.all_messages() if m.buttons)


async def test_two_instances_deliver_every_due_reminder_exactly_once(standin, database_url):
    await _seeded(database_url)
    _, apps = await _apps(standin, database_url, 2)
    try:
        counts = await asyncio.gather(*(app.bot_data["delivery"].run_until_idle() for app in apps))
    finally:
        await _close(apps)
    per_chat = reminders_per_chat(standin)
    assert len(per_chat) == N and set(per_chat.values()) == {1}
    assert sum(counts) >= N  # rows claimed between them (each claims disjoint rows)


async def test_faults_every_reachable_patient_gets_exactly_one_message(standin, database_url):
    await _seeded(database_url)
    standin.set_faults(Faults(error_5xx_rate=0.05, timeout_rate=0.03, timeout_seconds=0.05, burst_429_count=15,
                              burst_429_retry_after=2, blocked_rate=0.10), seed=7)
    clock, [app] = await _apps(standin, database_url, 1)
    runner = app.bot_data["delivery"]
    try:
        await runner.run_until_idle()
        for _ in range(20):  # retries fall due as the clock moves (backoff, retry_after)
            clock.travel(timedelta(minutes=2))
            await runner.run_until_idle()
        async with app.bot_data["runtime"].db.session() as s:
            from sqlalchemy import func, select

            unreachable = await s.scalar(select(func.count()).select_from(Patient).where(Patient.unreachable))
            states = Counter((await s.execute(select(Outbox.state).where(
                Outbox.kind == "reminder", Outbox.local_date == date(2026, 12, 1)))).scalars())
    finally:
        await _close([app])
    per_chat = reminders_per_chat(standin)
    stats = standin.stats
    assert stats["rejected_403"] > 0 and stats["faults_5xx"] + stats["timeouts"] > 0 and stats["rejected_429"] > 0
    assert set(per_chat.values()) == {1}  # nobody got two
    assert len(per_chat) + unreachable == N  # everybody reachable got one; the blocked are marked
    assert states == Counter({"sent": len(per_chat), "failed": unreachable})


async def test_rate_limiter_keeps_a_burst_under_telegrams_limit(standin, sqlite_url):
    """A burst of due reminders goes out at the configured rate with no 429 from a strict limit."""
    await _seeded(sqlite_url)
    standin.set_limits(global_rate=100)
    clock = Clock(frozen_at=NOW)
    app = make_app(standin, sqlite_url, clock, rate_limit_enabled=True, rate_limit_per_second=100,
                   delivery_batch_size=50)
    await app.initialize()
    await app.post_init(app)
    try:
        await app.bot_data["delivery"].run_until_idle()
    finally:
        await _close([app])
    assert standin.stats["rejected_429"] == 0
    per_chat = reminders_per_chat(standin)
    assert len(per_chat) == N and set(per_chat.values()) == {1}
