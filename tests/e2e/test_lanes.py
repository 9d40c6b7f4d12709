"""With the rate limiter on, as in production: a patient's tap is answered while a fan-out of reminders
is still queued, and the fan-out itself loses and repeats nothing (bot/telegram_limiter.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

from sqlalchemy import select

from bench.common import NOW, seed
from bot.storage.models import ExerciseSession, Outbox, Patient, Prompt
from tests.harness import Coach

REMINDERS = 60
RATE = 20  # per second, enforced by the stand-in too (429 above it)


async def _open_question(coach: Coach, chat: int) -> int:
    """The patient in `chat` has started today's session; the 'before' question is open."""
    async with coach.rt.db.session() as s:
        pid = await s.scalar(select(Patient.id).where(Patient.chat_id == chat))
        session = ExerciseSession(patient_id=pid, local_date=date(2026, 12, 1), planned_at=NOW, status="started",
                                  started_at=NOW, flags=[], levels={"rom": 1, "reps": 1, "load": 1, "speed": 1})
        s.add(session)
        await s.flush()
        prompt = Prompt(patient_id=pid, session_id=session.id, kind="before", asked_at=NOW, closed=False)
        s.add(prompt)
        await s.flush()
        return prompt.id


async def test_a_taps_reply_overtakes_a_queued_fan_out(standin, sqlite_url, coach_start):
    standin.set_limits(global_rate=RATE)
    coach = await Coach(standin, sqlite_url, coach_start, rate_limit_enabled=True, rate_limit_per_second=RATE,
                        delivery_concurrency=64).start()
    try:
        await seed(coach.rt.db, REMINDERS + 1, due=REMINDERS)  # chats 100000.. ; the last one has no reminder
        tapper = 100000 + REMINDERS
        prompt = await _open_question(coach, tapper)

        def reminders_sent() -> int:
            return sum(1 for m in standin.all_messages() if m.chat_id != tapper)

        fan_out = asyncio.create_task(coach.travel(hours=1))  # 09:00 Tokyo: all 60 reminders due at once
        await standin.wait_until(lambda: reminders_sent() >= 5, timeout=30)
        await coach.press_raw(tapper, f"rt:{prompt}:2", message_id=1)  # taps "2" on the open question
        [reply] = await standin.wait_for_messages(tapper, 1, timeout=30)
        before_reply = reminders_sent()
        assert await fan_out == REMINDERS

        assert "1つ目の運動が終わったら" in reply.body
        # the fan-out was still queued when the reply went out: most reminders came after it
        assert REMINDERS - before_reply >= 20, f"only {REMINDERS - before_reply} reminders came after the reply"
        # and the fan-out lost and repeated nothing, with no 429 from Telegram's limit
        per_chat = Counter(m.chat_id for m in standin.all_messages() if m.chat_id != tapper)
        assert len(per_chat) == REMINDERS and set(per_chat.values()) == {1}
        assert standin.stats["rejected_429"] == 0
        assert await coach.count(Outbox, Outbox.kind == "reminder", Outbox.state == "sent") == REMINDERS
    finally:
        await coach.stop()
