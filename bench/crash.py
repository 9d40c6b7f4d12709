"""Crash: kill -9 the bot in the middle of a fan-out, restart it, count what each patient received.

    python bench/crash.py -n 1000                          # one instance on SQLite
    python bench/crash.py -n 1000 --db postgres --instances 2  # two instances, one killed mid-way
    python bench/crash.py --taps 50 [--db postgres]        # 50 rating taps, each followed by a kill -9

Real processes: the stand-in (python -m telegram_standin) and the bot (python -m bot), on 127.0.0.1.
Prints delivered, lost and duplicated reminders. With --taps: each of N patients taps a rating, and the bot
is killed -9 a random 0-80 ms later (so kills fall before, during and after the handler's commit and its
answer), then restarted for the next tap; at the end it prints how many ratings were stored exactly once
and answered exactly once, and any lost or duplicated.
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

from sqlalchemy import text  # noqa: E402

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


def open_questions(url: str, n: int) -> dict[int, int]:
    """N patients, each with today's session started and its 'before' question open (on the real clock, as
    the bot runs): chat id -> prompt id."""
    from sqlalchemy import insert, select

    from bot.storage.models import ExerciseSession, Patient, Prompt
    from bot.timeplan import local_date

    async def run() -> dict[int, int]:
        db = await fresh_database(url)
        await seed(db, n, due=0)
        now = datetime.now(UTC)
        today = local_date(now, "Asia/Tokyo")
        async with db.session() as s:
            await s.execute(text("UPDATE patient SET consent_at = :t, enrolled_at = :t"), {"t": now})
            patients = (await s.execute(select(Patient.id, Patient.chat_id))).all()
            await s.execute(insert(ExerciseSession), [dict(
                patient_id=pid, local_date=today, planned_at=now, status="started", started_at=now, flags=[],
                levels={"rom": 1, "reps": 1, "load": 1, "speed": 1}) for pid, _ in patients])
            sessions = dict((await s.execute(select(ExerciseSession.patient_id, ExerciseSession.id))).all())
            await s.execute(insert(Prompt), [dict(patient_id=pid, session_id=sessions[pid], kind="before",
                                                  asked_at=now, closed=False) for pid, _ in patients])
            prompts = dict((await s.execute(select(Prompt.patient_id, Prompt.id))).all())
        await db.dispose()
        return {chat: prompts[pid] for pid, chat in patients}

    return asyncio.run(run())


def post(url: str, body: dict) -> None:
    import json
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:  # loopback only
        r.read()


def taps_main(p) -> None:
    import random

    from sqlalchemy import text as sql

    from bot.storage.db import Database

    url = database_url(p.db, "crash-taps")
    questions = open_questions(url, p.taps)
    rng = random.Random(p.seed)
    log = ROOT / "bench/out/crash-taps-bot.log"
    log.unlink(missing_ok=True)

    async def figures() -> tuple[dict[int, int], int, int]:
        db = Database(url)
        async with db.session() as s:
            decisions = dict((await s.execute(sql(
                "SELECT p.chat_id, count(d.id) FROM patient p LEFT JOIN decision d ON d.patient_id = p.id "
                "AND d.stage = 'before' GROUP BY p.chat_id"))).all())
            open_inbox = (await s.execute(sql("SELECT count(*) FROM inbox WHERE done_at IS NULL"))).scalar()
            unsent = (await s.execute(sql("SELECT count(*) FROM outbox WHERE kind = 'reply' AND state IN "
                                          "('pending', 'claimed')"))).scalar()
        await db.dispose()
        return decisions, open_inbox, unsent

    with standin_process() as (base_url, api):
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": base_url, "DATABASE_URL": url,
               "DELIVERY_INTERVAL_SECONDS": "0.5", "DELIVERY_LEASE_SECONDS": "10", "LOG_LEVEL": "WARNING"}
        env.pop("ITAMI_CRASH_AT", None)
        bot: subprocess.Popen | None = None

        def started() -> subprocess.Popen:
            polls = get(f"{api}/stats")["requests"].get("getUpdates", 0)
            proc = start_bot(env, log)
            wait_for(lambda: get(f"{api}/stats")["requests"].get("getUpdates", 0) > polls, 60, "the bot to poll")
            return proc

        delays = []
        try:
            for chat, prompt in questions.items():
                bot = started()
                post(f"{api}/users/{chat}/press", {"message_id": 1, "data": f"rt:{prompt}:5", "raw": True})
                delay = rng.uniform(0, p.kill_within)
                delays.append(delay)
                time.sleep(delay)
                os.kill(bot.pid, signal.SIGKILL)
                bot.wait()
            print(f"{p.taps} taps, each followed by kill -9 after {min(delays) * 1000:.0f}-{max(delays) * 1000:.0f} ms;"
                  " restarting once more to settle")
            bot = started()

            def settled() -> bool:
                _, open_inbox, unsent = asyncio.run(figures())
                return open_inbox == 0 and unsent == 0
            wait_for(settled, 120, "every stored tap to be handled and answered")
            time.sleep(2)  # the last answers' sends land before counting
            decisions, _, _ = asyncio.run(figures())
            answers = per_chat(api)
        finally:
            if bot is not None and bot.poll() is None:  # only the process this script started
                bot.terminate()
                bot.wait(10)
    chats = list(questions)
    stored_once = sum(decisions.get(c, 0) == 1 for c in chats)
    answered_once = sum(answers.get(c, 0) == 1 for c in chats)
    lost = sum(decisions.get(c, 0) == 0 for c in chats)
    unanswered = sum(answers.get(c, 0) == 0 for c in chats)
    stored_twice = sum(decisions.get(c, 0) > 1 for c in chats)
    answered_twice = sum(answers.get(c, 0) > 1 for c in chats)
    print(f"crash --taps db={p.db}: {p.taps} taps: stored once {stored_once}, answered once {answered_once}; "
          f"lost {lost}, unanswered {unanswered}, stored twice {stored_twice}, answered twice {answered_twice}")


def main() -> None:
    parser = args.parser(__doc__, n=1000, rate=200.0)  # type: ignore[attr-defined]  # set in bench/common.py
    parser.add_argument("--taps", type=int, default=0, help="rating taps, each followed by a kill -9")
    parser.add_argument("--kill-within", type=float, default=0.08, help="seconds after a tap to kill within")
    parser.add_argument("--seed", type=int, default=13)
    p = parser.parse_args()
    if p.taps:
        taps_main(p)
        return
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
