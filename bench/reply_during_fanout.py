"""Reply latency during a fan-out, with the rate limiter on (as in production).

N reminders fall due at once and go out at --rate (the stand-in, its own process, enforces the same
limit with 429s). Patients with an open rating question tap an answer at a steady --taps per second,
first with nothing else going on ("alone"), then throughout the fan-out. Each latency runs from the
press reaching the stand-in to that patient's reply reaching it; the bot long-polls.

    python bench/reply_during_fanout.py                 # 3,000 reminders at 30/s, 2 taps/s
    python bench/reply_during_fanout.py -n 3000 --db postgres

Prints reply p50/p99 alone and during the fan-out, the fan-out's rate, 429s, lost, deferred, duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import insert, select

from bench.common import database_url, deliver_all, fresh_database, get, make_app, per_chat, seed, standin_process
from bot.clock import Clock
from bot.storage.models import ExerciseSession, Patient, Prompt


async def prepare(url: str, reminders: int, tappers: int) -> dict[int, int]:
    """`reminders` patients with a reminder due now; `tappers` more with a rating question open: chat -> prompt."""
    now = datetime.now(UTC)
    db = await fresh_database(url)
    await seed(db, reminders + tappers, due=reminders, due_at=now)
    today = now.astimezone(ZoneInfo("Asia/Tokyo")).date()
    async with db.session() as s:
        rows = (await s.execute(select(Patient.id, Patient.chat_id).order_by(Patient.id).offset(reminders))).all()
        await s.execute(insert(ExerciseSession), [dict(
            patient_id=pid, local_date=today, planned_at=now, status="started", started_at=now, flags=[],
            levels={"rom": 1, "reps": 1, "load": 1, "speed": 1}) for pid, _ in rows])
        ids = [pid for pid, _ in rows]
        sessions = dict((await s.execute(select(ExerciseSession.patient_id, ExerciseSession.id)
                                         .where(ExerciseSession.patient_id.in_(ids)))).all())
        await s.execute(insert(Prompt), [dict(patient_id=pid, session_id=sessions[pid], kind="before", asked_at=now,
                                              closed=False) for pid, _ in rows])
        prompts = dict((await s.execute(select(Prompt.patient_id, Prompt.id).where(Prompt.patient_id.in_(ids)))).all())
    await db.dispose()
    return {chat: prompts[pid] for pid, chat in rows}


class Tapper:
    """Patients pressing "2" on their open question, one every 1/rate s, each timed to its reply."""

    def __init__(self, http: aiohttp.ClientSession, api: str, questions: dict[int, int]) -> None:
        self.http = http
        self.api = api
        self.queue = iter(questions.items())
        self.tasks: list[asyncio.Task] = []

    async def _one(self, chat: int, prompt: int, out: list[float]) -> None:
        t0 = time.perf_counter()
        async with self.http.post(f"{self.api}/users/{chat}/press",
                                  json={"message_id": 1, "data": f"rt:{prompt}:2", "raw": True}) as r:
            r.raise_for_status()
        async with self.http.get(f"{self.api}/chats/{chat}/messages", params={"after_id": 0, "wait": 60}) as r:
            if await r.json():
                out.append((time.perf_counter() - t0) * 1000)

    async def tap(self, rate: float, out: list[float], *, count: int | None = None,
                  until: asyncio.Future | None = None) -> None:
        start = time.perf_counter()
        for i in itertools.count():
            if (count is not None and i >= count) or (until is not None and until.done()):
                break
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            chat, prompt = next(self.queue)
            self.tasks.append(asyncio.create_task(self._one(chat, prompt, out)))
        await asyncio.gather(*self.tasks)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else float("nan"))


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("-n", type=int, default=3000, help="reminders due at once")
    p.add_argument("--rate", type=float, default=30.0)
    p.add_argument("--taps", type=float, default=2.0, help="taps per second")
    p.add_argument("--alone", type=int, default=40, help="taps timed with nothing else going on")
    a = p.parse_args()
    url = database_url(a.db, "reply_during_fanout")
    tappers = a.alone + int(a.n / a.rate * a.taps * 1.5) + 50
    questions = await prepare(url, a.n, tappers)
    with standin_process(a.rate) as (base_url, api):
        app = make_app(base_url, url, Clock(), rate_limit_per_second=a.rate, rate_limit_enabled=True)  # defaults
        await app.initialize()
        await app.post_init(app)
        await app.start()
        # receive as `python -m bot` does: through the inbox (bot/updates.py), answers as outbox rows
        from bot.updates import Updates

        stop = asyncio.Event()
        updates = Updates(app)
        polling = asyncio.create_task(updates.poll(stop, timeout=5))
        alone: list[float] = []
        during: list[float] = []
        async with aiohttp.ClientSession() as http:
            tapper = Tapper(http, api, questions)
            await tapper.tap(a.taps, alone, count=a.alone)
            fan_out = asyncio.create_task(deliver_all(app))
            await tapper.tap(a.taps, during, until=fan_out)
            elapsed, deferred = await fan_out
        limiter = app.bot.rate_limiter
        waits = {lane: sorted(w * 1000 for w in limiter.waits[lane]) for lane in limiter.waits}
        stop.set()
        await polling
        await updates.drain()
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
        chats = Counter(per_chat(api))
        stats = get(f"{api}/stats")
    tapper_chats = set(questions)
    reminders = {c: k for c, k in chats.items() if c not in tapper_chats}
    delivered = sum(reminders.values())
    print(f"reply during fan-out db={a.db} n={a.n} limit={a.rate:g}/s taps={a.taps:g}/s (limiter on)")
    print(f"  reply alone:  n={len(alone)} p50={statistics.median(alone):.1f} ms p99={pct(alone, 99):.1f} ms")
    print(f"  reply during: n={len(during)} p50={statistics.median(during):.1f} ms p99={pct(during, 99):.1f} ms "
          f"(p99 during / alone = {pct(during, 99) / pct(alone, 99):.2f})")
    print("  time waiting in the rate limiter for a turn: " + "; ".join(
        f"{lane} p50={pct(w, 50):.1f} ms p99={pct(w, 99):.1f} ms (n={len(w)})" for lane, w in waits.items() if w))
    print(f"  fan-out: delivered {delivered} in {elapsed:.1f} s = {delivered / elapsed:.1f}/s, "
          f"rate/limit = {delivered / elapsed / a.rate:.3f}")
    print(f"  429s={stats.get('rejected_429', 0)} lost={a.n - len(reminders) - deferred} deferred={deferred} "
          f"duplicated={sum(c - 1 for c in reminders.values())} "
          f"unanswered taps={len(tapper.tasks) - len(alone) - len(during)}")


if __name__ == "__main__":
    asyncio.run(main())
