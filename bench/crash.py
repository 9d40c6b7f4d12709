"""Crash: kill -9 the bot in the middle of a fan-out, restart it, count what each patient received.

    python bench/crash.py -n 1000                          # one instance on SQLite
    python bench/crash.py -n 1000 --db postgres --instances 2   # two instances, one killed mid-way

Real processes: the stand-in (python -m bot.standin) and the bot (python -m bot), on 127.0.0.1.
Prints delivered, lost and duplicated reminders.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import TOKEN, args, database_url, fresh_database, seed  # noqa: E402

PY = sys.executable


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
    instances = int(os.environ.get("INSTANCES", "0")) or (2 if "--instances" in sys.argv else 1)
    url = database_url(p.db, "crash")
    os.makedirs(ROOT / "bench/out", exist_ok=True)

    async def prepare() -> None:
        db = await fresh_database(url)
        await seed(db, p.n, due_at=datetime.now(UTC))
        await db.dispose()

    asyncio.run(prepare())
    port = free_port()
    standin = subprocess.Popen([PY, "-m", "bot.standin", "--port", str(port), "--global-rate", str(p.rate),
                                "--no-bodies"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/_standin"
    bots: list[subprocess.Popen] = []
    try:
        wait_for(lambda: _up(api), 20, "the stand-in")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
               "DATABASE_URL": url, "DELIVERY_INTERVAL_SECONDS": "0.5", "DELIVERY_LEASE_SECONDS": "15",
               "RATE_LIMIT_PER_SECOND": str(p.rate), "DELIVERY_BATCH_SIZE": "50", "LOG_LEVEL": "WARNING"}
        log = ROOT / "bench/out/crash-bot.log"
        bots = [start_bot(env, log) for _ in range(instances)]
        kill_at = p.n * 0.3
        wait_for(lambda: get(f"{api}/stats")["messages_delivered"] >= kill_at, 120, "30% delivered")
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
        chats = get(f"{api}/chats")
    finally:
        for bot in bots:
            if bot.poll() is None:
                bot.terminate()
                bot.wait(10)
        standin.terminate()
        standin.wait(10)
    counts = [c["messages"] for c in chats]
    delivered = sum(counts)
    print(f"crash db={p.db} instances={instances} n={p.n}: delivered {delivered}, "
          f"patients reached {len(counts)}, lost {p.n - len(counts)}, duplicated {sum(c - 1 for c in counts if c > 1)}")


def _up(api: str) -> bool:
    try:
        get(f"{api}/stats")
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
