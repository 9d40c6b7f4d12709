"""LINE fan-out: N patients on LINE with a reminder due in the same minute, delivered by the delivery runner
through the LINE adapter (bot/line/channel.py) to the LINE stand-in (line_standin.LineStandin).

    python bench/line_fanout.py -n 1000                      # SQLite: no push limit, then LINE's 2,000 pushes/s
    python bench/line_fanout.py -n 5000 --db postgres        # a PostgreSQL database of its own, dropped at the end
    python bench/line_fanout.py -n 1000 --first-day          # nobody has seen the pictures: they go with the reminder

Set-up as bench/fanout.py (bench/common.py: seed), but each patient is a LINE user: a `line_user` row and its
number (bot/storage/line.py: number_of), a profile at the stand-in (a push to a user LINE does not know is a
400). The stand-in runs inside the bench's process (it has no HTTP control API), so the CPU figure is the bot's
and the stand-in's together. Each configuration gets a fresh database.

Prints per run: reminder rows delivered and rows/s, wall time, pushes LINE counted (`pushes_used`: one per push
to a following user) against rows (the goal: one push per reminder, up to 5 message objects in it), push
requests, message objects, 429s, lost and duplicated (a user with more reminder pushes than one)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.common import args, cpu_seconds, database_url, free_port, fresh_database, make_app, scratch_postgres, seed
from bench.fanout import deliver
from bot.clock import Clock
from bot.storage import line as stored
from bot.storage import outbox
from bot.storage.db import Database
from bot.storage.models import Outbox
from line_standin import LineStandin
from telegram_standin import StandIn

SECRET = "bench-line-channel-secret"
TOKEN = "bench-line-channel-access-token"
LINE_PUSH_RATE = 2000  # LINE's documented rate limit for the push endpoint, requests per second (docs/benchmarks.md)


def line_user_id(i: int) -> str:
    return f"U{i:032x}"


async def enrol_line_users(db: Database, n: int, chunk: int = 1000) -> list[int]:
    """A `line_user` row for each of n LINE users, numbered as the webhook numbers them on first contact."""
    numbers: list[int] = []
    now = datetime.now(UTC)
    for lo in range(0, n, chunk):
        async with db.session() as s:
            numbers += [await stored.number_of(s, line_user_id(i), now) for i in range(lo, min(lo + chunk, n))]
    return numbers


async def run(a, url: str, push_rate: int | None) -> None:
    db = await fresh_database(url)
    start = time.perf_counter()
    numbers = await enrol_line_users(db, a.n)
    print(f"numbered {a.n} LINE users in {time.perf_counter() - start:.1f} s")
    await seed(db, a.n, users=numbers, due_at=datetime.now(UTC), shown=not a.first_day)
    await db.dispose()
    async with StandIn(record_bodies=False) as telegram, \
            LineStandin(SECRET, TOKEN, allow_http_media=True, push_rate_per_second=push_rate) as line:
        for i in range(a.n):
            line.set_profile(line_user_id(i), f"p{i}")
        app = make_app(telegram, url, Clock(), delivery_batch_size=a.batch, delivery_concurrency=64,
                       line_channel_secret=SECRET, line_channel_access_token=TOKEN, line_api_base_url=line.base_url,
                       line_public_url=f"http://127.0.0.1:{free_port()}")
        elapsed, deferred, cpu, _ = await deliver(app)
        db = Database(url)
        async with db.session() as s:
            rows = await s.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.kind == "reminder", Outbox.state == outbox.SENT))
        await db.dispose()
        per_user = Counter({u: len({m.request_id for m in line.messages(u)}) for u in line.chats()})
        objects = sum(len(line.messages(u)) for u in line.chats())
        stats = line.stats
        used = line.pushes_used
    reached = len(per_user)
    rejected = dict(stats["rejected"])
    others = {k: v for k, v in rejected.items() if k != "rate_limit"}
    limit = f"{push_rate}/s" if push_rate else "none"
    print(f"LINE fan-out db={a.db} n={a.n} push limit={limit}{' first day (pictures)' if a.first_day else ''}: "
          f"{rows} rows in {elapsed:.1f} s = {rows / max(elapsed, 1e-9):.0f} rows/s")
    print(f"  pushes counted by LINE {used} for {rows} rows = {used / max(rows, 1):.2f} per reminder; push requests "
          f"{stats['pushes']}, message objects {objects} ({objects / max(rows, 1):.1f} per reminder); "
          f"429s={rejected.get('rate_limit', 0)} other rejections={others}")
    print(f"  reached {reached} of {a.n}, lost={a.n - reached - deferred} deferred={deferred}  "
          f"requests per user max={max(per_user.values(), default=0)}; CPU (bot + stand-in) {cpu:.1f} s = "
          f"{cpu / max(rows, 1) * 1000:.2f} ms/row")


async def main() -> None:
    p = args.parser(__doc__, n=1000)
    p.add_argument("--first-day", action="store_true", help="nobody has seen the exercises' pictures yet")
    p.add_argument("--push-rate", type=int, action="append",
                   help=f"the stand-in's push limit per second; repeat for several runs (default: none, then "
                        f"{LINE_PUSH_RATE}); 0 = none")
    a = p.parse_args()
    rates = [r or None for r in a.push_rate] if a.push_rate else [None, LINE_PUSH_RATE]
    for rate in rates:
        print(f"# load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        cpu0 = cpu_seconds()
        if a.db == "postgres":
            async with scratch_postgres("line_fanout") as url:
                await run(a, url, rate)
        else:
            await run(a, database_url("sqlite", "line_fanout"), rate)
        print(f"  whole run (set-up included) CPU {cpu_seconds() - cpu0:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
