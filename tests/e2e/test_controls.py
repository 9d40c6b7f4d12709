"""Clinician controls (issue 10 §1) end to end: the clinician and the patient in one test, through the stand-in.
The patient card, each control with its audit row and what the patient hears, stale and forged buttons,
other clinicians refused."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from bot.i18n import t
from bot.storage.models import AuditEntry, Clearance, ClinicNote, Decision, ExerciseSession, Outbox, Patient
from tests.e2e.test_clinicians import ADMIN, DOC, DOC2, REFUSED, join
from tests.helpers import USER, answer_signup, day, enrol, press_sign


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


# --- after a red flag: clear or keep paused ----------------------------------------------------------

async def test_after_a_red_flag_the_card_clears_or_keeps_the_patient_paused(clinic):
    p = await setup(clinic)
    await clinic.text(USER, "/symptom")
    await press_sign(clinic, "knee_locking")  # same day: held for the clinic's clearance
    card = (await clinic.text(DOC, f"/patient {p.id}"))[-1]
    assert "状態：確認待ち（危険サイン）" in card.body and "未対応のアラート 1件" in card.body
    assert t("button.control.clear") in card.button_texts and t("button.control.pause") not in card.button_texts
    answer = await clinic.press(DOC, t("button.control.keep"))
    assert "休止を継続：確認待ち（危険サイン） → 確認待ち（危険サイン）" in answer[-1].body
    await clinic.travel(minutes=1)
    assert clinic.last(USER).startswith("はなこさん、担当スタッフが確認しました。もうしばらく運動はお休みしてください")
    answer = await clinic.press(DOC, t("button.control.clear"), message_id=card.message_id)
    assert "確認済み・再開：確認待ち（危険サイン） → 実施中" in answer[-1].body
    [held] = await clinic.rows(Clearance)
    assert held.cleared_by == DOC
    await clinic.travel(minutes=1)
    assert clinic.last(USER).startswith(t("redflag.cleared", nickname="はなこ", time="09:00"))
    again = await clinic.press(DOC, t("button.control.clear"), message_id=card.message_id)  # already cleared
    assert "いまの状態には当てはまりません" in again[-1].body
    assert [a.action for a in await clinic.rows(AuditEntry)] == ["keep_paused", "clear"]


# --- the dose -------------------------------------------------------------------------------------------

async def test_levels_are_set_stepped_back_and_held_from_the_card(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/patient {p.id}")
    await clinic.press(DOC, t("button.control.level"))
    await clinic.press(DOC, "回数")
    answer = await clinic.press(DOC, "3")
    assert "レベル変更：回数 1/8 → 回数 3/8" in answer[-1].body
    [p] = await clinic.rows(Patient)
    assert (p.reps, p.raise_history) == (3, ["reps", "reps"])
    await clinic.travel(minutes=1)
    told = clinic.last(USER)
    assert told.startswith("はなこさん、担当スタッフが運動量を調整しました。") and "今日の運動" in told
    assert "：回数 8回 → " in told  # what changed, exercise by exercise (rules Program.changes)
    # one step back (the element raised last), typed
    answer = await clinic.text(DOC, f"/stepback {p.id}")
    assert "1段階下げる：回数 3/8 → 回数 2/8" in answer[-1].body
    answer = await clinic.text(DOC, f"/level {p.id} 強さ 2")
    assert "レベル変更：強さ 1/4 → 強さ 2/4" in answer[-1].body
    assert (await clinic.text(DOC, f"/level {p.id} 強さ 9"))[-1].body == t("control.usage.level")
    assert (await clinic.text(DOC, f"/level {p.id} 腕 2"))[-1].body == t("control.usage.level")
    [p] = await clinic.rows(Patient)
    assert (p.reps, p.load, p.raise_history) == (2, 2, ["reps", "load"])
    # held: two good sessions raise nothing, and the patient hears why
    await clinic.text(DOC, f"/patient {p.id}")
    answer = await clinic.press(DOC, t("button.control.hold"))
    assert "引き上げを止める：通常（ルールどおり） → 止めています" in answer[-1].body
    await day(clinic, 2, 2, 1, 1)
    await day(clinic, 2, 2, 1, 1)
    [p] = await clinic.rows(Patient)
    assert (p.rom, p.reps, p.load, p.speed) == (1, 2, 2, 1)
    last = (await clinic.rows(Decision))[-1]
    assert "clinician_hold" in last.reasons and last.action == "hold"
    assert "担当スタッフの判断で、しばらく今の運動量を続けます" in "\n".join(
        m.body or "" for m in clinic.standin.messages(USER)[-3:])
    assert [a.action for a in await clinic.rows(AuditEntry)] == ["level", "step_back", "level", "hold"]


async def test_the_ceiling_and_the_too_painful_rating_reach_the_rules(clinic):
    p = await setup(clinic)
    answer = await clinic.text(DOC, f"/ceiling {p.id} 5")
    assert "運動中の痛みの上限：標準（0〜3、運動前が高い日は最大5まで） → 5" in answer[-1].body
    assert (await clinic.text(DOC, f"/ceiling {p.id} 9"))[-1].body == t("control.usage.ceiling")
    answer = await clinic.text(DOC, f"/toopainful {p.id} 8")
    assert "今日は休む痛み：標準（7以上） → 8" in answer[-1].body
    # before 7 (the clinic's "too painful" without the clinician's 8), during 5 (over the default limit 3)
    await clinic.travel(hours=1)
    await clinic.press(USER, "今から始める")
    await clinic.press(USER, "2")
    await clinic.press(USER, "1つ目が終わった")
    await clinic.press(USER, "5")
    decisions = await clinic.rows(Decision)
    assert decisions[-1].action == "hold"  # within the clinician's ceiling: no step back
    await clinic.travel(hours=24)  # the next day's reminder
    await clinic.press(USER, "今から始める")
    await clinic.press(USER, "7")
    [*_, today] = await clinic.rows(ExerciseSession)
    assert today.status == "started"  # 7 is below the clinician's 8: exercise today
    # back to the clinic's default
    await clinic.text(DOC, f"/toopainful {p.id} 標準")
    [p] = await clinic.rows(Patient)
    assert (p.ceiling, p.severe_threshold) == (5, None)


async def test_condition_trial_and_end_from_the_card(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/patient {p.id}")
    await clinic.press(DOC, t("button.control.condition"))
    answer = await clinic.press(DOC, t("condition.low_back"))
    assert "対象の変更：膝痛 → 腰痛" in answer[-1].body
    await clinic.travel(minutes=1)
    assert clinic.last(USER).startswith("はなこさん、担当スタッフが運動の内容を「腰痛」向けに変更しました")
    assert await clinic.count(Outbox, Outbox.kind == "alert") == 0  # the clinician changed it: no alert to them
    # the trial: 7 more days; its end-of-trial rows move with it
    [before] = await clinic.rows(Outbox, Outbox.kind == "trial_expire", Outbox.state == "pending")
    await clinic.press(DOC, t("button.control.extend"))
    answer = await clinic.press(DOC, t("button.control.days", n=7))
    assert "体験の延長：12/15 → 12/22" in answer[-1].body
    [after] = await clinic.rows(Outbox, Outbox.kind == "trial_expire", Outbox.state == "pending")
    assert after.due_at - before.due_at == timedelta(days=7)
    await clinic.travel(minutes=1)
    assert clinic.last(USER).startswith("はなこさん、担当スタッフが体験期間を 12/22 まで延長しました")
    # the end, confirmed
    await clinic.press(DOC, t("button.control.end"))
    answer = await clinic.press(DOC, t("button.control.end_yes"))
    assert "プログラム終了：体験中 → 終了" in answer[-1].body
    await clinic.travel(minutes=1)
    assert clinic.last(USER).startswith("はなこさん、担当スタッフと相談のうえ、プログラムを終了しました")
    assert await clinic.count(Outbox, Outbox.patient_id == p.id, Outbox.kind == "reminder",
                              Outbox.state == "pending") == 0
    [p] = await clinic.rows(Patient)
    assert p.status == "ended"


# --- notes ----------------------------------------------------------------------------------------------

async def test_a_note_to_the_patient_is_signed_and_a_private_note_stays_on_the_card(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/patient {p.id}")
    asked = await clinic.press(DOC, t("button.control.note"))
    assert "次の1通で送ってください" in asked[-1].body
    answer = await clinic.text(DOC, "来週の火曜に一度いらしてください。\nお待ちしています。")
    assert answer[-1].body.startswith(t("control.done.note", nickname="はなこ", id=p.id))
    await clinic.travel(minutes=1)
    assert clinic.last(USER) == t("clinic_notice.note", name="田中",
                                  text="来週の火曜に一度いらしてください。\nお待ちしています。")
    # a private note, typed; the patient sees nothing, the card shows it
    seen = len(clinic.standin.messages(USER))
    await clinic.text(DOC, f"/memo {p.id} 膝の腫れなし（電話で確認）")
    await clinic.travel(minutes=1)
    assert len(clinic.standin.messages(USER)) == seen
    card = (await clinic.text(DOC, f"/patient {p.id}"))[-1].body
    assert "田中：膝の腫れなし（電話で確認）" in card and "田中：本人へメッセージ" in card and "田中：メモ" in card
    notes = await clinic.rows(ClinicNote)
    assert [(n.kind, n.author_name) for n in notes] == [("to_patient", "田中"), ("private", "田中")]
    # after a note, the clinician's next text is their own again (no second note)
    await clinic.text(DOC, "ありがとう")
    assert await clinic.count(ClinicNote) == 2
    # a note asked for, then another action first: the text that follows is not taken as the note
    await clinic.press(DOC, t("button.control.memo"))
    await clinic.text(DOC, f"/pause {p.id}")
    await clinic.text(DOC, "休止の理由を電話で説明済み")
    assert await clinic.count(ClinicNote) == 2


async def test_the_export_carries_the_audit_log(clinic):
    p = await setup(clinic)
    await clinic.text(DOC, f"/pause {p.id}")
    await clinic.text(DOC, f"/level {p.id} 回数 2")
    await clinic.text(DOC, f"/memo {p.id} =1+2 電話済み")
    [doc] = await clinic.text(DOC, "/export")
    rows = list(csv.reader(io.StringIO(doc.file_bytes.decode("utf-8-sig"))))
    assert rows[0][-3:] == ["操作者", "変更前", "変更後"] and {len(r) for r in rows} == {len(rows[0])}
    actions = [r for r in rows[1:] if r[0] == "操作"]
    assert [(r[1], r[2], r[11], r[-3], r[-2], r[-1]) for r in actions] == [
        (str(p.id), "はなこ", "一時停止", "田中", "実施中", "一時停止中"),
        (str(p.id), "はなこ", "レベル変更", "田中", "回数 1/8", "回数 2/8"),
        (str(p.id), "はなこ", "メモ", "田中", "—", "—"),  # the note's text stays on the card, not in the export
    ]


async def test_the_card_shows_the_contact_given_at_signup_and_only_the_elements_the_program_uses(clinic):
    await join(clinic, DOC, "田中")
    await clinic.text(USER, "/trial")
    await clinic.press(USER, "同意して始める")
    await answer_signup(clinic)  # low back: no exercise of the back program has a speed
    await clinic.text(USER, "はなこ")
    await clinic.press(USER, t("button.contact"))
    await clinic.text(USER, "090-1234-5678")
    await clinic.press(USER, "この内容で始める")
    [p] = await clinic.rows(Patient)
    card = (await clinic.text(DOC, f"/patient {p.id}"))[-1].body
    assert t("alert.contact", contact="090-1234-5678") in card  # staff can call after a red flag or a booking
    levels = next(line for line in card.splitlines() if line.startswith("現在のレベル："))
    assert "動かす範囲 1/" in levels and "速さ" not in levels
