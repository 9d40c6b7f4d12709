"""What must survive a restart or an outage: an enrolment in progress, delivery during a database outage,
and the weekly explanation that keeps coming."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import OperationalError

from bot.storage import outbox
from bot.storage.models import Outbox, Patient, Signup
from tests.harness import Coach
from tests.helpers import USER, enrol


async def test_an_enrolment_resumes_where_it_stopped_after_a_restart(standin, database_url, coach_start):
    first = await Coach(standin, database_url, coach_start).start()
    await first.text(USER, "/trial")
    await first.press(USER, "同意して始める")
    await first.press(USER, "腰痛")
    await first.text(USER, "4")
    await first.stop()

    second = await Coach(standin, database_url, coach_start + timedelta(minutes=5)).start()
    try:
        await second.text(USER, "/trial")
        assert "体験申込の続きです" in second.last(USER) and "転んだことはありますか" in second.last(USER)
        await second.press(USER, "いいえ")  # the old process's question, answered in the new one
        await second.press(USER, "いいえ")
        await second.press(USER, "どれも当てはまらない")
        await second.press(USER, "どれも当てはまらない")  # the guideline screen
        await second.text(USER, "１９時")
        await second.press(USER, "07:00")
        await second.text(USER, "まさお")
        await second.press(USER, "この内容で始める")
        [p] = await second.rows(Patient)
        assert (p.condition, p.usual_pain, p.exercise_time, p.nickname) == ("low_back", 4, "19:00", "まさお")
        assert await second.count(Signup) == 0
    finally:
        await second.stop()


async def test_a_database_outage_pauses_delivery_and_loses_nothing(coach, monkeypatch, caplog):

    await enrol(coach)
    await coach.runner.run_until_idle()
    real_claim = outbox.claim_due

    async def database_down(*args, **kwargs):
        raise OperationalError("SELECT ...", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(outbox, "claim_due", database_down)
    with caplog.at_level(logging.ERROR):
        assert await coach.travel(hours=1) == 0  # 09:00: the reminder is due, the database is down
    assert "could not claim due rows" in caplog.text

    await coach.text(USER, "/help")
    assert "使い方" in coach.last(USER)

    monkeypatch.setattr(outbox, "claim_due", real_claim)
    await coach.travel(minutes=5)  # back up: the reminder goes out, once
    reminders = [m for m in coach.standin.messages(USER) if "運動の時間です" in (m.body or "")]
    assert len(reminders) == 1
    [row] = await coach.rows(Outbox, Outbox.kind == "reminder", Outbox.state == "sent")
    assert row.payload["day"] == "2026-12-01"


async def test_the_weekly_explanation_arrives_each_week(coach):

    await enrol(coach)
    await coach.travel(days=7, hours=1)
    weekly = [m.body for m in coach.standin.messages(USER) if "今週のひとこと" in (m.body or "")]
    assert len(weekly) == 1
    await coach.travel(days=7)
    weekly = [m.body for m in coach.standin.messages(USER) if "今週のひとこと" in (m.body or "")]
    assert len(weekly) == 2 and weekly[0] != weekly[1]  # a different topic each week


def test_json_logs_carry_no_token():
    import json

    from bot.logs import JsonLines

    token = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
    record = logging.LogRecord("bot", logging.INFO, "", 0, "delivered to patient %s via %s", (42, token), None)
    line = json.loads(JsonLines(token).format(record))
    assert line["message"] == "delivered to patient 42 via <token>" and line["level"] == "INFO"
