"""Kill tests (issue 13): the real bot (`python -m bot`, SQLite) is ended like kill -9 at a fixed point after a
patient taps a rating (ITAMI_CRASH_AT, bot/crashpoints.py): before its transaction commits, right after the
commit, after the answer was sent. Restarted, it must have stored the rating exactly once and the patient
must have had exactly one answer. (bench/crash.py --taps does the same at random moments.)

These run real processes against the in-process stand-in, so they wait on the processes (polling with a
timeout), not on a clock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.crashpoints import EXIT_STATUS, POINTS
from bot.storage.db import Database
from bot.storage.models import Decision, ExerciseSession, Inbox, Outbox, Prompt
from tests.e2e.test_bad_input import msg
from tests.harness import TOKEN, Coach
from tests.helpers import USER, enrol

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 90.0  # seconds: a safety net against a hang on a loaded machine, not a measurement
OTHER = 5002
LEASE = 10  # DELIVERY_LEASE_SECONDS: an answer a dead process held is sent by the next after this


async def start_bot(standin, url: str, log: Path, crash_at: str | None = None) -> asyncio.subprocess.Process:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": standin.base_url, "DATABASE_URL": url, "DELIVERY_INTERVAL_SECONDS": "0.5",
           "DELIVERY_LEASE_SECONDS": str(LEASE), "LOG_LEVEL": "INFO"}
    if crash_at:
        env["ITAMI_CRASH_AT"] = crash_at
    out = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=log.parent, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out,
            stderr=asyncio.subprocess.STDOUT)
    finally:
        out.close()


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:]


async def until(check, what: str, log: Path) -> None:
    """Poll `check()` (a coroutine function) until true; fail with the bot's log after WITHIN seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + WITHIN
    while not await check():
        if loop.time() > end:
            pytest.fail(f"timed out waiting for {what}; bot log:\n{tail(log)}")
        await asyncio.sleep(0.1)


async def count(db: Database, model, *where) -> int:
    async with db.session() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.mark.parametrize("point", POINTS)
async def test_a_rating_tapped_before_a_kill_is_stored_once_and_answered_once(standin, sqlite_url, tmp_path, point):
    # The bot runs on the real clock: enrolled an hour ago with the exercise time a minute ago, so the "before"
    # question is open now.
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1, minutes=1)
    coach = await Coach(standin, sqlite_url, start).start()
    try:
        await enrol(coach, time=(start + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M"))
        await coach.travel(hours=1)
        await coach.press(USER, msg("button.start_now"))
        question = coach.find(USER, button_text="5")
    finally:
        await coach.stop()
    before = len(standin.messages(USER))
    db, log = Database(sqlite_url), tmp_path / "bot.log"
    bots: list[asyncio.subprocess.Process] = []
    try:
        bots.append(await start_bot(standin, sqlite_url, log, crash_at=point))
        await standin.user_presses(USER, question.message_id, button_text="5")
        assert await asyncio.wait_for(bots[0].wait(), WITHIN) == EXIT_STATUS, tail(log)
        answered_before_the_kill = len(standin.messages(USER)) - before
        assert answered_before_the_kill == (1 if point == "after_reply" else 0)

        bots.append(await start_bot(standin, sqlite_url, log))  # the restart

        async def settled() -> bool:
            return (await count(db, Inbox, Inbox.done_at.is_(None)) == 0
                    and await count(db, Outbox, Outbox.kind == "reply", Outbox.state.in_(("pending", "claimed"))) == 0
                    and len(standin.messages(USER)) > before)
        await until(settled, "the tap to be handled and answered after the restart", log)
        await standin.user_sends_text(OTHER, "/help")  # the restarted bot is up and polling (and can be stopped)

        async def polling() -> bool:
            return bool(standin.messages(OTHER))
        await until(polling, "the restarted bot to answer", log)
        bots[1].terminate()
        assert await asyncio.wait_for(bots[1].wait(), WITHIN) == 0

        answers = [m.body for m in standin.messages(USER)[before:]]
        assert len(answers) == 1 and msg("decision.hold.start", limit=5, before=5) in answers[0], answers
        async with db.session() as s:
            [session] = list(await s.scalars(select(ExerciseSession)))
        assert session.before == 5
        assert await count(db, Decision, Decision.stage == "before") == 1
        assert await count(db, Prompt, Prompt.kind == "before", Prompt.answer == "5") == 1
        assert "Traceback" not in tail(log, 10**7)
    finally:
        for bot in bots:  # only the processes this test started
            if bot.returncode is None:
                bot.kill()
                with contextlib.suppress(Exception):
                    await bot.wait()
        await db.dispose()
