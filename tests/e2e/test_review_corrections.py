"""Smaller corrections of issue 8 §5, through Telegram: a change of program starts at its beginning and tells
the clinician; the trial's target on day 1. (The 24-hour recheck before the next session:
tests/e2e/test_method.py::test_next_morning_rise_schedules_a_24h_recheck_that_decides.)"""

from __future__ import annotations

import pytest

from bot.storage.models import Outbox, Patient
from tests.harness import Coach
from tests.helpers import START, USER, day, enrol

ADMIN = 9001


@pytest.fixture
async def coach(standin, database_url):
    c = await Coach(standin, database_url, START, admin_telegram_ids=[ADMIN], trial_target_per_week=4).start()
    yield c
    await c.stop()


async def test_a_change_of_program_starts_at_its_beginning_and_tells_the_clinician(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 2)
    await day(coach, 2, 3, 2, 1)
    [p] = await coach.rows(Patient)
    assert (p.condition, p.rom, p.raise_history) == ("knee", 2, ["rom"])
    await coach.text(USER, "/settings")
    await coach.press(USER, "痛みの種類を変える")
    [saved] = await coach.press(USER, "腰痛")
    assert "運動量はいちばん軽い量から始めます" in saved.body
    [p] = await coach.rows(Patient)
    assert (p.condition, p.rom, p.reps, p.load, p.speed, p.raise_history) == ("low_back", 1, 1, 1, 1, [])
    [alert] = await coach.rows(Outbox, Outbox.kind == "alert")
    assert alert.payload["event"] == "condition_changed"
    await coach.travel(minutes=1)
    assert any("痛みの種類（プログラム）が変わりました" in (m.body or "") for m in coach.standin.messages(ADMIN))


async def test_the_trial_target_is_told_on_day_1(coach):
    await enrol(coach)
    welcome = coach.standin.messages(USER)[-1].body
    assert "ようこそ" in welcome and "目標は週 4 回です" in welcome


async def test_a_worse_week_quotes_both_weeks_means(coach):
    """Issue 8 §4: every reply quotes the numbers that led to it, the week-to-week rule too."""
    await enrol(coach)
    await day(coach, 2, 2, 1, 1)
    await day(coach, 2, 2, 1, 1)  # raised (range of motion)
    await coach.travel(days=5)  # five days without exercise
    await day(coach, 2, 2, 1, 2)
    await day(coach, 2, 2, 1, 2)  # within limits, but the mornings are higher than the week before
    assert "この1週間の翌朝の痛み（平均 2.0）が、前の週（平均 1.0）より高めです" in coach.last(USER)
    [p] = await coach.rows(Patient)
    assert (p.rom, p.reps) == (2, 1)
