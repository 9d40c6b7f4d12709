"""Fall risk through Telegram (issue 9 §1): signup asks about a fall in the last year and unsteadiness; a patient
at risk gets the supported variant of every standing exercise, and the clinician sees the flag on the enrolment
notice, the patient card and the weekly summary (docs/clinical.md, "Fall risk")."""

from __future__ import annotations

from bot.i18n import t
from bot.storage.models import Patient
from rules import load_program
from tests.e2e.conftest import ADMIN  # the admin of the `clinic` fixture, who receives the enrolment notices
from tests.helpers import USER, enrol

KNEE = load_program("knee")
SUPPORTED = load_program("knee", supported=True)


async def how_to_texts(clinic) -> str:
    """What the patient reads of each exercise: the captions of 「やり方を見る」 under today's plan card."""
    await clinic.text(USER, "/today")
    captions = []
    for x in KNEE.exercises:  # the same exercises and names, supported or not
        [picture] = await clinic.press(USER, t("button.how_to", name=x.name))
        captions.append(picture.body or "")
    return "\n".join(captions)


async def card(clinic, patient_id: int) -> str:
    """The patient card's text messages (/patient ID), as one text."""
    return "\n".join(m.body or "" for m in await clinic.text(ADMIN, f"/patient {patient_id}") if m.kind == "text")


async def test_a_fall_in_the_last_year_gives_the_supported_exercises_and_the_clinician_sees_it(clinic):
    await enrol(clinic, falls="はい", unsteady="いいえ")
    bodies = [m.body or "" for m in clinic.standin.messages(USER)]
    assert t("signup.falls") in bodies and t("signup.unsteady") in bodies
    assert any(b.startswith(t("signup.fall_risk_noted")) for b in bodies)  # told once what the answer changes
    assert any("転倒・ふらつき：この1年に転んだ" in b for b in bodies)  # the summary before confirming
    [p] = await clinic.rows(Patient)
    assert (p.falls_last_year, p.unsteady) == (True, False)
    # what the patient reads: the supported variant of each standing exercise, the same doses
    welcome = await how_to_texts(clinic)
    assert "両手でひじかけを押して立ち" in welcome and "横向きに寝て" in welcome and "台所の流し" in welcome
    assert "テーブルの横に立ち" not in welcome
    for x in SUPPORTED.exercises:
        assert x.how in welcome
    # the clinician: the enrolment notice, the patient card
    await clinic.travel(seconds=1)
    [notice] = [m.body for m in clinic.standin.messages(ADMIN) if m.body.startswith("【体験申込】")]
    assert "⚠ 転倒リスク：この1年に転んだ" in notice
    assert "⚠ 転倒リスク：この1年に転んだ（立って行う運動は支えの多いやり方）" in await card(clinic, p.id)


async def test_unsteady_alone_is_a_fall_risk_too(clinic):
    await enrol(clinic, falls="いいえ", unsteady="はい")
    [p] = await clinic.rows(Patient)
    assert (p.falls_last_year, p.unsteady) == (False, True)
    assert "両手でひじかけを押して立ち" in await how_to_texts(clinic)
    assert "⚠ 転倒リスク：ふらつきがある" in await card(clinic, p.id)


async def test_without_a_fall_or_unsteadiness_the_standing_exercises_use_fingertip_support(clinic):
    await enrol(clinic)
    bodies = [m.body or "" for m in clinic.standin.messages(USER)]
    assert not any(b.startswith(t("signup.fall_risk_noted")) for b in bodies)
    assert any("転倒・ふらつき：なし" in b for b in bodies)
    welcome = await how_to_texts(clinic)
    assert "テーブルに向いて立ち、両手の指先をそえます" in welcome and "両手でひじかけを押して立ち" not in welcome
    for x in KNEE.exercises:
        assert x.how in welcome
    [p] = await clinic.rows(Patient)
    assert "転倒リスク" not in await card(clinic, p.id)
