"""Size: start-up time and resident memory of `python -m bot` with 100,000 enrolled patients, and a
clinician's weekly summary for 10,000 patients (text; charts timed separately).

    python bench/size.py                    # 100,000 patients, 10,000 with two weeks of sessions
    python bench/size.py --db postgres -n 100000
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text, update

from bench.common import ROOT, TOKEN, args, database_url, fresh_database, get, seed, standin_process, wait_for
from bot.clock import Clock
from bot.config import Settings
from bot.reports import build
from bot.reports import text as report_text
from bot.reports.summary import Period
from bot.runtime import Runtime
from bot.storage.db import Database
from bot.storage.models import Clinician, Decision, ExerciseSession, Patient

WEEK = Period(date(2026, 11, 23), date(2026, 11, 29))


async def seed_history(db: Database, clinician_patients: int) -> int:
    """A clinician with `clinician_patients` patients, each with 14 days of sessions and a decision a day."""
    rng = random.Random(1)
    now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    async with db.session() as s:
        cid = (await s.execute(insert(Clinician).returning(Clinician.id), [dict(
            telegram_user_id=9001, chat_id=9001, name="bench", link_code="benchcode", joined_at=now)])).scalar_one()
        ids = (await s.execute(select(Patient.id).order_by(Patient.id).limit(clinician_patients))).scalars().all()
        await s.execute(update(Patient).where(Patient.id.in_(ids)).values(clinician_id=cid))
    for lo in range(0, len(ids), 1000):
        chunk = ids[lo:lo + 1000]
        sessions, decisions = [], []
        for pid in chunk:
            for d in range(14):
                day = WEEK.end - timedelta(days=d)
                at = datetime(day.year, day.month, day.day, 0, 0, tzinfo=UTC)
                done = rng.random() < 0.8
                sessions.append(dict(
                    patient_id=pid, local_date=day, planned_at=at, status="done" if done else "missed",
                    started_at=at if done else None, before=rng.randint(1, 4) if done else None,
                    during=rng.randint(1, 5) if done else None, after=rng.randint(1, 4) if done else None,
                    next_morning=rng.randint(1, 4) if done else None, flags=[], levels={"rom": 1}))
                if done:
                    decisions.append(dict(patient_id=pid, stage="next_morning", action="hold", reasons=["limits_met"],
                                          message="decision.hold.one_more", urgent=False, levels_before={},
                                          levels_after={}, created_at=at + timedelta(hours=22)))
        async with db.session() as s:
            await s.execute(insert(ExerciseSession), sessions)
            await s.execute(insert(Decision), decisions)
    return cid


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def startup(url: str) -> tuple[float, float, float]:
    """Seconds from exec to polling, RSS when polling, RSS after 10 s of running (delivery ticks included)."""
    with standin_process() as (base_url, api):
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": base_url, "DATABASE_URL": url,
               "LOG_LEVEL": "WARNING", "DELIVERY_INTERVAL_SECONDS": "1"}
        start = time.perf_counter()
        bot = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: get(f"{api}/stats")["requests"].get("getUpdates", 0) >= 1, 120, "the bot to poll")
            ready = time.perf_counter() - start
            first = rss_mb(bot.pid)
            time.sleep(10)  # a bench may wait in real time; tests never do
            later = rss_mb(bot.pid)
        finally:
            bot.terminate()
            bot.wait(20)
    return ready, first, later


async def summaries(url: str, cid: int) -> None:
    settings = Settings(_env_file=None, database_url=url)
    rt = Runtime(settings=settings, db=Database(url), clock=Clock(frozen_at=datetime(2026, 11, 30, 0, 0, tzinfo=UTC)))
    async with rt.db.session() as s:
        t0 = time.perf_counter()
        found = await build.summaries(s, rt, cid, WEEK)
        messages = report_text.summary_messages(WEEK, found, tz=settings.clinic_timezone, scope_name="bench")
        t1 = time.perf_counter()
        replies = await build.summary_replies(s, rt, cid, WEEK, scope_name="bench",
                                              max_charts=settings.summary_max_patient_charts)
        t2 = time.perf_counter()
    await rt.db.dispose()
    photos = sum(1 for r in replies if r.photo)
    print(f"weekly summary for {len(found)} patients: text {t1 - t0:.1f} s ({len(messages)} messages, "
          f"{sum(map(len, messages)) // 1000} k characters); with charts {t2 - t1:.1f} s ({photos} charts)")


async def prepare(url: str, n: int, clinician_patients: int) -> int:
    db = await fresh_database(url)
    await seed(db, n, due=0)
    t0 = time.perf_counter()
    cid = await seed_history(db, clinician_patients)
    print(f"seeded 14 days of sessions for {clinician_patients} patients in {time.perf_counter() - t0:.1f} s")
    async with db.session() as s:
        total = (await s.execute(text("SELECT count(*) FROM patient"))).scalar_one()
    await db.dispose()
    print(f"{total} patients enrolled")
    return cid


def main() -> None:
    a = args(__doc__, n=100_000)
    url = database_url(a.db, "size")
    cid = asyncio.run(prepare(url, a.n, min(10_000, a.n)))
    ready, first, later = startup(url)
    print(f"start-up with {a.n} patients: polling after {ready:.1f} s; RSS {first:.0f} MB at start, "
          f"{later:.0f} MB after 10 s")
    asyncio.run(summaries(url, cid))


if __name__ == "__main__":
    main()
