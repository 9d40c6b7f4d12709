"""Forged, stale and mismatched button values (issue 13): each gets the "no longer valid" answer
(common.closed) and changes nothing; a value answers only the kind of question it was sent with."""

from __future__ import annotations

import pytest

from bot.i18n import t
from bot.storage.models import Patient, Prompt, Signup
from tests.e2e.test_bad_input import snapshot, start_session
from tests.e2e.test_clinicians import join
from tests.harness import Coach
from tests.helpers import USER

CLOSED = t("common.closed")


async def prompt_id(coach, kind: str) -> int:
    [p] = [p for p in await coach.rows(Prompt, Prompt.kind == kind) if p.answered_at is None and not p.closed]
    return p.id


async def during_question_open(coach) -> dict[str, int]:
    """A session whose 'during' question is open; the ids of each kind of question asked so far."""
    await start_session(coach)
    await coach.text(USER, "2")  # before
    await coach.press(USER, t("button.first_done"))
    return {p.kind: p.id for p in await coach.rows(Prompt)}


# (what is forged, the data built from the ids of the questions asked so far)
FORGED = [
    ("a reminder's choice on the during question", lambda ids: f"rm:{ids['during']}:now"),
    ("a reminder's skip on the during question", lambda ids: f"rm:{ids['during']}:skip"),
    ("the trial's end on a rating question", lambda ids: f"tr:{ids['during']}:end"),
    ("the trial's end on the reminder", lambda ids: f"tr:{ids['reminder']}:end"),
    ("a rating on the reminder", lambda ids: f"rt:{ids['reminder']}:5"),
    ("a rating on the answered before question", lambda ids: f"rt:{ids['before']}:5"),
    ("a superscript digit", lambda ids: f"rt:{ids['during']}:²"),
    ("a superscript id", lambda ids: "rt:²:3"),
    ("full-width digits", lambda ids: f"rt:{ids['during']}:３"),
    ("a 12-digit id (beyond int4)", lambda ids: "rt:999999999999:3"),
    ("an id one beyond int4", lambda ids: "rm:2147483648:now"),
    ("a value out of range", lambda ids: f"rt:{ids['during']}:11"),
    ("a leading zero", lambda ids: f"rt:{ids['during']}:03"),
    ("another patient's session", lambda ids: "nx:999:during"),
    ("a 12-digit session", lambda ids: "nx:123456789012:after"),
    ("an unknown flag", lambda ids: "rf:cold"),
    ("an unknown setting", lambda ids: "st:volume:11"),
    ("a setting time out of range", lambda ids: "st:time:2460"),
    ("a signup step without a signup", lambda ids: "su:cond:low_back"),
    ("an unknown family", lambda ids: "zz:1:1"),
    ("a delete with an odd answer", lambda ids: "del:maybe"),
    ("a 12-digit patient", lambda ids: "cp:123456789012"),
]


@pytest.mark.parametrize("data", [f for _, f in FORGED], ids=[name for name, _ in FORGED])
async def test_forged_or_mismatched_buttons_are_closed_and_change_nothing(coach, data):
    ids = await during_question_open(coach)
    before = await snapshot(coach)
    assert await coach.press_raw(USER, data(ids), 1) == []
    assert coach.standin.callback_answers[-1][1] in (CLOSED, t("clinic.refused"))
    assert await snapshot(coach) == before
    await coach.text(USER, "3")  # the during question is still open and takes the patient's answer
    [during] = await coach.rows(Prompt, Prompt.id == ids["during"])
    assert during.answer == "3"


async def test_a_forged_reminder_choice_does_not_use_up_the_during_question(coach):
    ids = await during_question_open(coach)
    await coach.press_raw(USER, f"rm:{ids['during']}:now", 1)
    [during] = await coach.rows(Prompt, Prompt.id == ids["during"])
    assert during.answered_at is None and not during.closed
    await coach.text(USER, "3")
    [during] = await coach.rows(Prompt, Prompt.id == ids["during"])
    assert during.answer == "3"


async def test_a_forged_trial_end_does_not_end_the_trial(coach):
    await start_session(coach)
    await coach.press_raw(USER, f"tr:{await prompt_id(coach, 'before')}:end", 1)
    assert coach.standin.callback_answers[-1][1] == CLOSED
    [p] = await coach.rows(Patient)
    assert p.status == "trial"


@pytest.fixture
async def clinic(standin, database_url, coach_start):
    c = await Coach(standin, database_url, coach_start, admin_telegram_ids=[9001]).start()
    yield c
    await c.stop()


async def test_a_forged_consent_with_a_clinician_id_assigns_no_clinician(clinic):
    await join(clinic)
    for data in ("c:yes:1", "trial:1"):
        await clinic.press_raw(USER, data, 1)
        assert clinic.standin.callback_answers[-1][1] == CLOSED
    assert await clinic.count(Signup) == 0
    await clinic.press_raw(USER, "c:yes:ZZZZ9999", 1)  # a code shaped like a link code, but no clinician's
    [sign] = await clinic.rows(Signup)
    assert "clinician_id" not in sign.data
