"""One name validator for every name, typed or taken from Telegram (issue 13): no control, bidi-override or
zero-width characters, no newlines, a length limit; a kind retry message and nothing stored."""

from __future__ import annotations

import pytest

from bot.i18n import t
from bot.storage.models import Clinician, Patient, Signup
from tests.e2e.test_clinicians import ADMIN, DOC, invite
from tests.harness import Coach
from tests.helpers import USER, answer_signup

RLO, ZWSP = "\u202e", "\u200b"


async def to_nickname_step(coach, first_name: str = "花子") -> None:
    await coach.text(USER, "/trial")
    await coach.press(USER, "同意して始める")
    await answer_signup(coach)
    [sign] = await coach.rows(Signup)
    assert sign.step == "nickname"
    coach.standin.state.user(USER, first_name)  # the name Telegram sends with the next press



@pytest.mark.parametrize("typed", [f"はな{RLO}こ", f"はな{ZWSP}こ", "はな\nこ", "あ" * 21])
async def test_a_typed_nickname_with_hidden_characters_is_asked_again(coach, typed):
    await to_nickname_step(coach)
    [reply] = await coach.text(USER, typed)
    assert reply.body.startswith(t("signup.nickname_retry", max=20))
    [sign] = await coach.rows(Signup)
    assert sign.step == "nickname" and "nickname" not in sign.data


@pytest.mark.parametrize("telegram_name", [f"{RLO}evil", f"Ha{ZWSP}nako", "A" * 40])
async def test_an_unusable_telegram_name_is_not_taken(coach, telegram_name):
    await to_nickname_step(coach, first_name=telegram_name)
    [reply] = await coach.press(USER, t("button.use_telegram_name"))
    assert reply.body.startswith(t("signup.telegram_name_unusable", max=20))
    [sign] = await coach.rows(Signup)
    assert sign.step == "nickname" and "nickname" not in sign.data
    await coach.text(USER, "はなこ")  # a typed name still works
    await coach.press(USER, "この内容で始める")
    [p] = await coach.rows(Patient)
    assert p.nickname == "はなこ"


async def test_a_usable_telegram_name_is_taken(coach):
    await to_nickname_step(coach, first_name="  花子  ")
    await coach.press(USER, t("button.use_telegram_name"))
    [sign] = await coach.rows(Signup)
    assert sign.step == "confirm" and sign.data["nickname"] == "花子"


@pytest.fixture
async def clinic(standin, database_url, coach_start):
    c = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN]).start()
    yield c
    await c.stop()


async def test_a_clinicians_unusable_telegram_name_is_replaced(clinic):
    code = await invite(clinic)
    await clinic.text(DOC, f"/clinician {code}", first_name=f"{RLO}田中\n先生")
    [c] = await clinic.rows(Clinician)
    assert c.name == t("clinic.unnamed", id=DOC)
