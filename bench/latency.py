"""Reply latency: 100 patients answer a rating at the same moment; time from the update arriving at the
stand-in to the bot's reply reaching it (p50, p99). The real Application long-polls the stand-in.

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

from bench.common import NOW, args, database_url, fresh_database, make_app, seed
from bot.clock import Clock
from bot.standin import StandIn
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


async def main() -> None:
    a = args(__doc__, n=100)
    url = database_url(a.db, "latency")
    questions = await open_questions(url, a.n)
    async with StandIn(record_bodies=False) as standin:
        app = make_app(standin, url, Clock(frozen_at=NOW + timedelta(minutes=1)), rate_limit_enabled=False)
        await app.initialize()
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        # bot messages with buttons exist for the presses to point at
        latencies: list[float] = []

        async def answer(chat: int, prompt: int) -> None:
            t0 = time.perf_counter()
            await standin.user_presses_raw(chat, f"rt:{prompt}:2", 1)
            await standin.wait_for_messages(chat, 1, timeout=60)
            latencies.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(answer(c, p) for c, p in questions.items()))
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
    q = statistics.quantiles(latencies, n=100)
    print(f"latency db={a.db} n={a.n} simultaneous answers: p50={statistics.median(latencies):.1f} ms "
          f"p99={q[98]:.1f} ms max={max(latencies):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
