"""Clinician controls (issue 10 §1) end to end: the clinician and the patient in one test, through the stand-in.
The patient card, each control with its audit row and what the patient hears, stale and forged buttons,
other clinicians refused."""

from __future__ import annotations

import json

from bot.i18n import t
from bot.storage.models import AuditEntry, Outbox, Patient
from tests.e2e.test_clinicians import ADMIN, DOC, DOC2, REFUSED, join
from tests.helpers import USER, enrol


async def setup(clinic) -> Patient:
    """田中 (DOC) joins; はなこ (USER) enrols and is theirs (the only clinician)."""
    await join(clinic, DOC, "田中")
    await enrol(clinic)
    [p] = await clinic.rows(Patient)
    assert p.clinician_id is not None
    return p


def bodies(msgs) -> str:
    return "\n".join(m.body or "" for m in msgs)


async def test_the_card_shows_the_state_and_pause_resume_are_recorded_and_told(clinic):
    p = await setup(clinic)
    shown = await clinic.text(DOC, f"/patient {p.id}")
    card = shown[-1].body
    assert "状態：実施中" in card and "現在のレベル：" in card and "運動中の痛みの上限：標準" in card
    assert "直近14日" in bodies(shown) and "操作の記録" in card and "まだありません" in card
    # pause from the card: the clinician sees before -> after, the patient is told kindly, reminders stop
    answer = await clinic.press(DOC, t("button.control.pause"))
    assert "一時停止：実施中 → 一時停止中" in answer[-1].body and t("control.told") in answer[-1].body
    [row] = await clinic.rows(AuditEntry)
    assert (row.patient_id, row.actor_user_id, row.actor_name, row.action, row.before, row.after) == \
        (p.id, DOC, "田中", "pause", "running", "paused")
    await clinic.travel(minutes=1)
    assert clinic.last(USER) == t("clinic_notice.paused", nickname="はなこ")
    assert (await clinic.rows(Patient))[0].paused
    await clinic.travel(hours=1)  # 09:00: no reminder while paused
    assert "今から始める" not in str(clinic.standin.last_message(USER).buttons)
    # the same old pause button again: already paused, it says so and records nothing
    stale = await clinic.press(DOC, t("button.control.pause"))
    assert "いまの状態には当てはまりません" in stale[-1].body
    assert await clinic.count(AuditEntry) == 1
    # resume by the typed command: told, and tomorrow's reminder comes
    answer = await clinic.text(DOC, f"/resume {p.id}")
    assert "再開：一時停止中 → 実施中" in answer[-1].body
    await clinic.travel(minutes=1)
    assert clinic.last(USER) == t("clinic_notice.resumed", nickname="はなこ", time="09:00")
    await clinic.travel(hours=24)
    assert "今から始める" in str(clinic.standin.last_message(USER).buttons)
    # the card's audit log, newest first
    card = (await clinic.text(DOC, f"/patient {p.id}"))[-1].body
    assert card.index("田中：再開") < card.index("田中：一時停止")


async def test_a_pause_undone_before_delivery_is_not_announced(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/pause {p.id}")
    await clinic.text(DOC, f"/resume {p.id}")
    await clinic.travel(minutes=1)
    told = [m.body for m in clinic.standin.messages(USER)]
    assert t("clinic_notice.paused", nickname="はなこ") not in told
    assert t("clinic_notice.resumed", nickname="はなこ", time="09:00") in told


async def test_only_the_patients_clinician_and_admins_may_act(clinic):
    p = await setup(clinic)
    await join(clinic, DOC2, "佐藤")
    await clinic.text(DOC, f"/patient {p.id}")
    pause = clinic.find(DOC, button_text=t("button.control.pause"))
    # another clinician: the command is refused as for a patient who does not exist, the button says gone
    assert (await clinic.text(DOC2, f"/pause {p.id}"))[-1].body == REFUSED
    assert (await clinic.text(DOC2, "/pause 999"))[-1].body == REFUSED
    await clinic.press_raw(DOC2, f"ps:{p.id}:pause", message_id=pause.message_id)
    assert clinic.standin.callback_answers[-1][1] == t("control.gone")
    # the patient themselves, and a forged value: the refusal / the no-longer-valid answer
    assert (await clinic.text(USER, f"/pause {p.id}"))[-1].body == REFUSED
    await clinic.press_raw(DOC, f"ps:{p.id}:explode", message_id=pause.message_id)
    assert clinic.standin.callback_answers[-1][1] == t("common.closed")
    assert not (await clinic.rows(Patient))[0].paused and await clinic.count(AuditEntry) == 0
    # an admin may act on every patient
    answer = await clinic.text(ADMIN, f"/pause {p.id}")
    assert "一時停止：実施中 → 一時停止中" in answer[-1].body
    [row] = await clinic.rows(AuditEntry)
    assert row.actor_user_id == ADMIN


async def test_a_button_for_an_erased_patient_says_so(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/patient {p.id}")
    await clinic.text(USER, "/delete")
    await clinic.press(USER, t("button.delete_yes"))
    before = len(clinic.standin.messages(DOC))
    await clinic.press(DOC, t("button.control.pause"))
    assert len(clinic.standin.messages(DOC)) == before  # a pop-up, no message
    assert clinic.standin.callback_answers[-1][1] == t("control.gone")
    assert await clinic.count(AuditEntry) == 0


async def test_erasure_keeps_the_fact_of_an_action_and_drops_its_content(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/pause {p.id}")
    [doc] = await clinic.text(USER, "/mydata")
    data = json.loads(doc.file_bytes.decode("utf-8"))
    assert [a["action"] for a in data["clinic_actions"]] == ["pause"]
    await clinic.text(USER, "/delete")
    await clinic.press(USER, t("button.delete_yes"))
    [row] = await clinic.rows(AuditEntry)
    assert (row.patient_id, row.actor_user_id, row.action, row.erased) == (p.id, DOC, "pause", True)
    assert (row.before, row.after, row.detail) == (None, None, None)
    assert await clinic.count(Patient) == 0 and await clinic.count(Outbox, Outbox.patient_id == p.id) == 0
