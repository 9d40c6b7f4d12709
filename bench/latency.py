"""Reply latency: 100 patients answer a rating at the same moment; time from each press reaching the
stand-in to the bot's reply reaching it (p50, p99). The real Application long-polls the stand-in, which
runs as its own process (as Telegram is not on the bot's CPU).

    python bench/latency.py -n 100 [--db postgres]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from bench.common import NOW, args, database_url, fresh_database, make_app, seed, standin_process
from bot.clock import Clock
from bot.storage.models import ExerciseSession, Patient, Prompt


async def open_questions(url: str, n: int) -> dict[int, int]:
    """Each patient has started today's session and has the 'before' question open: chat -> prompt id."""
    db = await fresh_database(url)
    await seed(db, n, due=0)
    async with db.session() as s:
        patients = (await s.execute(select(Patient.id, Patient.chat_id))).all()
        await s.execute(insert(ExerciseSession), [dict(
            patient_id=pid, local_date=date(2026, 12, 1), planned_at=NOW, status="started", started_at=NOW,
            flags=[], levels={"rom": 1, "reps": 1, "load": 1, "speed": 1}) for pid, _ in patients])
        sessions = dict((await s.execute(select(ExerciseSession.patient_id, ExerciseSession.id))).all())
        await s.execute(insert(Prompt), [dict(patient_id=pid, session_id=sessions[pid], kind="before",
                                              asked_at=NOW, closed=False) for pid, _ in patients])
        prompts = dict((await s.execute(select(Prompt.patient_id, Prompt.id))).all())
    await db.dispose()
    return {chat: prompts[pid] for pid, chat in patients}


async def measure(app, api: str, questions: dict[int, int]) -> list[float]:
    """Every patient presses "2" at once; ms from each press to that patient's reply."""
    import aiohttp

    await app.initialize()
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0.0, timeout=5)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:

        async def answer(chat: int, prompt: int) -> None:
            t0 = time.perf_counter()
            async with http.post(f"{api}/users/{chat}/press",
                                 json={"message_id": 1, "data": f"rt:{prompt}:2", "raw": True}) as r:
                r.raise_for_status()
            async with http.get(f"{api}/chats/{chat}/messages", params={"after_id": 0, "wait": 60}) as r:
                assert await r.json(), f"no reply to chat {chat}"
            latencies.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(answer(c, p) for c, p in questions.items()))
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    await app.post_shutdown(app)
    return latencies


async def main() -> None:
    a = args(__doc__, n=100)
    url = database_url(a.db, "latency")
    questions = await open_questions(url, a.n)
    clock = Clock(frozen_at=NOW + timedelta(minutes=1))
    with standin_process() as (base_url, api):
        latencies = await measure(make_app(base_url, url, clock, rate_limit_enabled=False), api, questions)
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    print(f"latency db={a.db} n={a.n} simultaneous answers: p50={statistics.median(latencies):.1f} ms "
          f"p99={p99:.1f} ms max={max(latencies):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
