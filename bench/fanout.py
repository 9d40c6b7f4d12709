"""Fan-out: N reminders due in the same minute, delivered through the rate limiter to the stand-in,
which enforces Telegram's global limit (answers 429 above it).

    python bench/fanout.py -n 3000 --rate 30            # Telegram's real limit (about 100 s)
    python bench/fanout.py -n 3000 --rate 30 --busy 4   # same, with 4 interactive sends/s going on
    python bench/fanout.py -n 3000 --rate 300 --db postgres
    python bench/fanout.py -n 10000 --rate 1000 --no-limit   # headroom: limiter off
    python bench/fanout.py -n 10000 --no-limit --bare   # + a bare PTB send_message loop, CPU side by side
    python bench/fanout.py -n 10000 --no-limit --db postgres --workers 2   # 2 bot processes

The stand-in runs as its own process (--in-process puts it in the bot's process). With --workers K, K bot
processes deliver from the same PostgreSQL queue, each with rate/K.

Prints: achieved rate / limit, 429s, lost (never deliverable), deferred (put back after a 429 and still
waiting when the bench gave up), duplicated; the bot's CPU per delivery (this process only)."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
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
from telegram_standin import StandIn

BUSY_CHATS = 900_000  # interactive sends (--busy) go to chats outside the fan-out


async def deliver(app, busy: float = 0.0) -> tuple[float, int, float, int]:
    """Deliver everything due, waiting for rows put back after a 429: (seconds, deferred, CPU seconds,
    interactive sends made meanwhile)."""
    async with app:
        await app.post_init(app)
        cpu = cpu_seconds()
        done = asyncio.Event()
        sent = 0

        async def interactive() -> None:  # what handlers send: the default lane
            nonlocal sent
            start, tasks = time.perf_counter(), []
            while not done.is_set():
                tasks.append(asyncio.create_task(app.bot.send_message(BUSY_CHATS + sent, "ok")))
                sent += 1
                await asyncio.sleep(max(start + sent / busy - time.perf_counter(), 0))
            await asyncio.gather(*tasks)

        side = asyncio.create_task(interactive()) if busy else None
        try:
            elapsed, deferred = await deliver_all(app)
        finally:
            done.set()
            if side is not None:
                await side
        cpu = cpu_seconds() - cpu
    await app.post_shutdown(app)
    return elapsed, deferred, cpu, sent


async def bare_loop(base_url: str, n: int, concurrency: int = 64) -> tuple[float, float]:
    """python-telegram-bot alone: send_message to n chats, same transport, no limiter, no database.
    (seconds, CPU seconds)."""
    from telegram import Bot

    from bench.common import TOKEN
    from bot.telegram_http import AiohttpRequest

    bot = Bot(TOKEN, base_url=base_url, request=AiohttpRequest(connection_pool_size=concurrency + 8))
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await bot.send_message(800_000 + i, "bare")

    async with bot:
        cpu, start = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - start, cpu_seconds() - cpu


def overrides(a, rate: float) -> dict:
    return dict(rate_limit_per_second=rate, rate_limit_enabled=not a.no_limit, delivery_batch_size=a.batch,
                delivery_concurrency=64)


async def child(a) -> None:
    """One of --workers processes: deliver from the shared queue, print a JSON line."""
    app = make_app(a.child, database_url(a.db, "fanout", fresh=False), Clock(), **overrides(a, a.rate))
    start = time.time()
    elapsed, deferred, cpu, _ = await deliver(app)
    print(json.dumps(dict(start=start, end=start + elapsed, deferred=deferred, cpu=cpu)), flush=True)


def run_workers(a, base_url: str) -> tuple[float, int, float]:
    cmd = [sys.executable, __file__, "--db", a.db, "-n", str(a.n), "--rate", str(a.rate / a.workers),
           "--batch", str(a.batch), "--child", base_url] + (["--no-limit"] if a.no_limit else [])
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(a.workers)]
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    return elapsed, max(r["deferred"] for r in results), sum(r["cpu"] for r in results)


async def main() -> None:
    p = args.parser(__doc__, n=3000, rate=30.0)
    p.add_argument("--busy", type=float, default=0.0, help="interactive sends per second during the fan-out")
    p.add_argument("--bare", action="store_true", help="also time a bare PTB send_message loop")
    p.add_argument("--workers", type=int, default=1, help="bot processes delivering (PostgreSQL)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:  # one of --workers (each process has its own worker id: host:pid)
        await child(a)
        return
    url = database_url(a.db, "fanout")
    db = await fresh_database(url)
    await seed(db, a.n, due_at=datetime.now(UTC))  # real clock: rows put back after a 429 fall due again
    await db.dispose()
    busy_sent, bare = 0, None
    if a.in_process:
        async with StandIn(global_rate=a.rate, record_bodies=False) as standin:
            elapsed, deferred, cpu, busy_sent = await deliver(make_app(standin, url, Clock(), **overrides(a, a.rate)),
                                                              a.busy)
            chats = Counter(m.chat_id for m in standin.all_messages())
            stats = standin.stats
    else:
        with standin_process(a.rate) as (base_url, api):
            if a.workers > 1:
                elapsed, deferred, cpu = run_workers(a, base_url)
            else:
                elapsed, deferred, cpu, busy_sent = await deliver(
                    make_app(base_url, url, Clock(), **overrides(a, a.rate)), a.busy)
            chats = Counter(per_chat(api))
            stats = get(f"{api}/stats")
            if a.bare:
                bare = await bare_loop(base_url, a.n)
    reminders = {c: k for c, k in chats.items() if c < BUSY_CHATS}
    delivered = sum(reminders.values())
    rate = delivered / elapsed
    total = (delivered + busy_sent) / elapsed
    print(f"fan-out db={a.db} n={a.n} limit={a.rate:g}/s{' (limiter off)' if a.no_limit else ''} "
          f"workers={a.workers} busy={a.busy:g}/s: delivered {delivered} in {elapsed:.1f} s = {rate:.1f}/s, "
          f"rate/limit = {rate / a.rate:.3f}" + (f"; with the {busy_sent} interactive sends {total:.1f}/s = "
                                                  f"{total / a.rate:.3f} of the limit" if a.busy else ""))
    duplicated = sum(c - 1 for c in reminders.values())
    print(f"  429s={stats.get('rejected_429', 0)} lost={a.n - len(reminders) - deferred} deferred={deferred} "
          f"duplicated={duplicated}  bot CPU {cpu:.1f} s = {cpu / max(delivered, 1) * 1000:.3f} ms/delivery "
          f"({delivered / max(cpu, 1e-9):.0f} deliveries per CPU-second)")
    if bare is not None:
        b_elapsed, b_cpu = bare
        print(f"  bare PTB send_message loop: {a.n} in {b_elapsed:.1f} s = {a.n / b_elapsed:.0f}/s, CPU "
              f"{b_cpu / a.n * 1000:.3f} ms/send ({a.n / b_cpu:.0f} per CPU-second); bot / bare = "
              f"{(cpu / max(delivered, 1)) / (b_cpu / a.n):.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
