"""Crash: kill -9 the bot in the middle of a fan-out, restart it, count what each patient received.

    python bench/crash.py -n 1000                          # one instance on SQLite
    python bench/crash.py -n 1000 --db postgres --instances 2  # two instances, one killed mid-way

Real processes: the stand-in (python -m telegram_standin) and the bot (python -m bot), on 127.0.0.1.
Prints delivered, lost and duplicated reminders.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    TOKEN,
    args,
    database_url,
    fresh_database,
    get,
    per_chat,
    seed,
    standin_process,
    wait_for,
)

PY = sys.executable


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "bot"], cwd=ROOT, env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


async def pending(url: str) -> int:
    from sqlalchemy import text

    from bot.storage.db import Database

    db = Database(url)
    async with db.session() as s:
        n = (await s.execute(text("SELECT count(*) FROM outbox WHERE kind='reminder' AND state IN "
                                  "('pending','claimed') AND due_at <= :now"), {"now": datetime.now(UTC)})).scalar()
    await db.dispose()
    return n


def main() -> None:
    p = args(__doc__, n=1000, rate=200.0)
    instances = p.instances
    url = database_url(p.db, "crash")
    os.makedirs(ROOT / "bench/out", exist_ok=True)

    async def prepare() -> None:
        db = await fresh_database(url)
        await seed(db, p.n, due_at=datetime.now(UTC))
        await db.dispose()

    asyncio.run(prepare())
    bots: list[subprocess.Popen] = []
    with standin_process(p.rate) as (base_url, api):
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": base_url,
               "DATABASE_URL": url, "DELIVERY_INTERVAL_SECONDS": "0.5", "DELIVERY_LEASE_SECONDS": "15",
               "RATE_LIMIT_PER_SECOND": str(p.rate / instances),  # each instance its share of the limit
               "DELIVERY_BATCH_SIZE": "50", "LOG_LEVEL": "WARNING"}
        log = ROOT / "bench/out/crash-bot.log"
        try:
            bots = [start_bot(env, log) for _ in range(instances)]
            wait_for(lambda: get(f"{api}/stats")["messages_delivered"] >= p.n * 0.3, 120, "30% delivered")
            victim = bots[0]
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            at_kill = get(f"{api}/stats")["messages_delivered"]
            print(f"killed instance 1 (pid {victim.pid}) with -9 after {at_kill} deliveries")
            if instances == 1:
                bots[0] = start_bot(env, log)
                print("restarted it")
            wait_for(lambda: asyncio.run(pending(url)) == 0, 180, "every due reminder to be settled")
            time.sleep(2)  # let the last in-flight sends land before counting
            counts = list(per_chat(api).values())
        finally:
            for bot in bots:  # only the processes this script started
                if bot.poll() is None:
                    bot.terminate()
                    bot.wait(10)
    delivered = sum(counts)
    print(f"crash db={p.db} instances={instances} n={p.n}: delivered {delivered}, "
          f"patients reached {len(counts)}, lost {p.n - len(counts)}, duplicated {sum(c - 1 for c in counts if c > 1)}")


if __name__ == "__main__":
    main()
