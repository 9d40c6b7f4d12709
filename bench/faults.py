"""Faults: the stand-in answers 5% of sends with 5xx, holds 2% for 6 s (past the bot's 5 s read timeout), throws a burst
of 429s and has 10% of patients blocking the bot. Every reachable patient must get exactly one reminder.

    python bench/faults.py -n 2000 [--db postgres]

Retries fall due as the (bench's own) clock moves forward, so the run takes seconds, not the real backoff.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.common import NOW, args, database_url, fresh_database, make_app, seed
from bot.clock import Clock
from bot.storage.models import Outbox, Patient
from telegram_standin import Faults, StandIn


async def main() -> None:
    a = args(__doc__, n=2000)
    url = database_url(a.db, "faults")
    db = await fresh_database(url)
    await seed(db, a.n)
    await db.dispose()
    faults = Faults(error_5xx_rate=0.05, timeout_rate=0.02, timeout_seconds=6.0, burst_429_count=100,
                    burst_429_retry_after=3, blocked_rate=0.10)
    async with StandIn(faults=faults, seed=11, record_bodies=False) as standin:
        clock = Clock(frozen_at=NOW)
        app = make_app(standin, url, clock, rate_limit_enabled=False, delivery_batch_size=200)
        async with app:
            await app.post_init(app)
            runner = app.bot_data["delivery"]
            start = time.perf_counter()
            await runner.run_until_idle()
            rounds = 0
            while rounds < 30:
                rounds += 1
                clock.travel(timedelta(minutes=2))
                if await runner.run_until_idle() == 0 and rounds > 10:
                    break
            elapsed = time.perf_counter() - start
            async with app.bot_data["runtime"].db.session() as s:
                blocked = await s.scalar(select(func.count()).select_from(Patient).where(Patient.unreachable))
                states = Counter((await s.execute(select(Outbox.state).where(
                    Outbox.kind == "reminder", Outbox.local_date == date(2026, 12, 1)))).scalars())
        await app.post_shutdown(app)
        chats = Counter(m.chat_id for m in standin.all_messages())
        st = standin.stats
    print(f"faults db={a.db} n={a.n}: injected 5xx={st['faults_5xx']} timeouts={st['timeouts']} "
          f"429={st['rejected_429']} blocked(403)={st['rejected_403']} in {elapsed:.1f} s")
    print(f"  reached {len(chats)} + marked unreachable {blocked} = {len(chats) + blocked} of {a.n}; "
          f"duplicated {sum(c - 1 for c in chats.values())}; rows {dict(states)}")


if __name__ == "__main__":
    asyncio.run(main())
