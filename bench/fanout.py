"""Fan-out: N reminders due in the same minute, delivered through the rate limiter to the stand-in,
which enforces Telegram's global limit (answers 429 above it).

    python bench/fanout.py -n 3000 --rate 30            # Telegram's real limit (about 100 s)
    python bench/fanout.py -n 3000 --rate 300 --db postgres
    python bench/fanout.py -n 10000 --rate 1000 --no-limit   # headroom: limiter off

The stand-in runs as its own process (--in-process puts it in the bot's process).

Prints: achieved rate / limit, 429s, lost and duplicated messages.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    args,
    cpu_seconds,
    database_url,
    deliver_all,
    fresh_database,
    get,
    make_app,
    per_chat,
    seed,
    standin_process,
)
from bot.clock import Clock
from bot.standin import StandIn


async def deliver(app) -> tuple[float, int, float]:
    """Deliver everything due, waiting for rows put back after a 429: (seconds, deferred, CPU seconds)."""
    async with app:
        await app.post_init(app)
        cpu = cpu_seconds()
        elapsed, deferred = await deliver_all(app)
        cpu = cpu_seconds() - cpu
    await app.post_shutdown(app)
    return elapsed, deferred, cpu


async def main() -> None:
    a = args(__doc__, n=3000, rate=30.0)
    url = database_url(a.db, "fanout")
    db = await fresh_database(url)
    await seed(db, a.n, due_at=datetime.now(UTC))  # real clock: rows put back after a 429 fall due again
    await db.dispose()
    overrides = dict(rate_limit_per_second=a.rate, rate_limit_enabled=not a.no_limit,
                     delivery_batch_size=a.batch, delivery_concurrency=64)
    if a.in_process:
        async with StandIn(global_rate=a.rate, record_bodies=False) as standin:
            elapsed, deferred, cpu = await deliver(make_app(standin, url, Clock(), **overrides))
            chats = Counter(m.chat_id for m in standin.all_messages())
            stats = standin.stats
    else:
        with standin_process(a.rate) as (base_url, api):
            elapsed, deferred, cpu = await deliver(make_app(base_url, url, Clock(), **overrides))
            chats = Counter(per_chat(api))
            stats = get(f"{api}/stats")
    delivered = sum(chats.values())
    rate = delivered / elapsed
    print(f"fan-out db={a.db} n={a.n} limit={a.rate:g}/s: delivered {delivered} in {elapsed:.1f} s "
          f"= {rate:.1f}/s, rate/limit = {rate / a.rate:.3f}")
    duplicated = sum(c - 1 for c in chats.values())
    print(f"  429s={stats.get('rejected_429', 0)} lost={a.n - len(chats) - deferred} deferred={deferred} "
          f"duplicated={duplicated}  bot CPU {cpu:.1f} s = {cpu / max(delivered, 1) * 1000:.2f} ms/delivery")


if __name__ == "__main__":
    asyncio.run(main())
