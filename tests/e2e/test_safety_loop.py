"""Issue 8 §1/§4, the safety loop around the red-flag rules, through the Telegram stand-in: every tier's advice
names the clinic (phone, hours; 119 for emergencies, the advice line out of hours for same-day signs), and the
patient hears "the clinic has been informed" only when the alert has someone to go to."""

from __future__ import annotations

import pytest

from bot.i18n import t
from bot.storage.models import Outbox, Patient
from tests.harness import Coach
from tests.helpers import USER, advice, enrol

ADMIN = 9001
CLINIC = {"clinic_name": "いたみ整形外科", "clinic_phone": "03-1234-5678", "clinic_hours": "平日 9:00〜18:00"}


@pytest.fixture
async def clinic(standin, database_url, coach_start):
    c = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN], **CLINIC).start()
    yield c
    await c.stop()


@pytest.fixture
async def lonely(standin, database_url, coach_start):
    """A clinic that configured no one to receive alerts (no clinician, staff chat or admin)."""
    c = await Coach(standin, database_url, coach_start, **CLINIC).start()
    yield c
    await c.stop()


async def report(coach, flag: str) -> str:
    await coach.text(USER, "/symptom")
    [reply] = await coach.press(USER, t(f"flag.{flag}"))
    return reply.body


@pytest.mark.parametrize(("flag", "tier_text", "must", "never"), [
    ("bladder_bowel", "decision.stop.red_flag_urgent", ["119", "いますぐ"], ["今日のうちに", "#7119"]),
    ("cannot_bear_weight", "decision.stop.red_flag_same_day", ["今日のうちに", "#7119"], ["いますぐ", "119番"]),
    ("fever", "decision.stop.red_flag_rest_today", ["お休み"], ["いますぐ", "今日のうちに", "119"]),
], ids=["emergency", "same_day", "rest_today"])
async def test_each_tier_names_the_clinic_phone_and_hours_with_one_verb(clinic, flag, tier_text, must, never):
    await enrol(clinic)
    body = await report(clinic, flag)
    assert body.startswith(advice(clinic, tier_text))
    assert "いたみ整形外科" in body and "03-1234-5678" in body and "平日 9:00〜18:00" in body
    assert all(word in body for word in must), body
    assert not any(word in body for word in never), body
    assert t("redflag.informed") in body  # an admin receives the alert


async def test_an_unconfigured_clinic_shows_a_placeholder_not_a_wrong_number(coach):
    await enrol(coach)
    body = await report(coach, "cannot_bear_weight")
    assert t("clinic.unset.phone") in body and t("clinic.unset.hours") in body and "#7119" in body


async def test_the_clinic_is_informed_only_when_someone_receives_the_alert(lonely):
    await enrol(lonely)
    body = await report(lonely, "fever")
    assert t("redflag.informed") not in body
    assert advice(lonely, "redflag.call_clinic") in body and "03-1234-5678" in body
    [p] = await lonely.rows(Patient)
    assert p.paused
    await lonely.travel(seconds=1)  # the alert row is recorded, with no one to send it to
    [row] = await lonely.rows(Outbox, Outbox.kind == "alert")
    assert row.state == "done"
