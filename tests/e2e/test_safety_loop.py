"""Issue 8 §1/§4, the safety loop around the red-flag rules, through the Telegram stand-in: every tier's advice
names the clinic (phone, hours; 119 for emergencies, the advice line out of hours for same-day signs), and the
patient hears "the clinic has been informed" only when the alert has someone to go to."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.i18n import t
from bot.storage.models import Clearance, Clinician, Decision, Outbox, Patient, RedFlagReport
from rules import MENU_FLAGS, MENU_GROUPS, load_redflags
from tests.harness import Coach
from tests.helpers import USER, advice, answer_signup, enrol, press_sign, up_to_todays_signs

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
    [reply] = await press_sign(coach, flag)
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


# --- staff notices: tier, link, answer and time; 「対応しました」; the re-notification -------------------------

STAFF = -1005555
DOC, DOC2, RECEPTION = 7001, 7002, 6001


@pytest.fixture
async def staffed(standin, database_url, coach_start):
    standin.add_group(STAFF, "supergroup")
    c = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN], staff_chat_id=STAFF,
                    **CLINIC).start()
    yield c
    await c.stop()


async def join_clinician(coach, user: int, name: str) -> str:
    await coach.text(ADMIN, "/invite")
    code = re.search(r"招待コード：(\w+)", coach.last(ADMIN)).group(1)
    await coach.text(user, f"/clinician {code}", first_name=name)
    [c] = await coach.rows(Clinician, Clinician.telegram_user_id == user)
    return c.link_code


async def enrol_with(coach, link_code: str) -> None:
    await coach.text(USER, f"/start c_{link_code}")
    await coach.press(USER, "体験を申し込む")
    await coach.press(USER, "同意して始める")
    await answer_signup(coach)
    await coach.text(USER, "はなこ")
    await coach.press(USER, "この内容で始める")


def notices(coach, chat: int) -> list:
    return [m for m in coach.standin.messages(chat) if "はなこさん" in (m.body or "") and m.buttons]


async def test_an_emergency_notice_carries_tier_link_answer_and_time_and_is_sent_again_unacknowledged(staffed):
    link = await join_clinician(staffed, DOC, "田中")
    await enrol_with(staffed, link)
    await join_clinician(staffed, DOC2, "佐藤")  # another clinician: never gets this patient's alerts
    await report(staffed, "bladder_bowel")
    await staffed.travel(seconds=1)
    [notice] = notices(staffed, DOC)  # the patient's clinician
    body = notice.body
    assert body.startswith("【至急】はなこさん") and t("alert.tier.emergency") in body
    assert t("flag.bladder_bowel") in body and t("alert.answered_at", when="12/1 08:00") in body
    [p] = await staffed.rows(Patient)
    assert notice.links() == [(t("alert.chat_link", nickname="はなこ"), f"tg://user?id={p.telegram_user_id}")]
    assert t("button.acknowledge") in notice.button_texts
    assert notices(staffed, STAFF) == [] and notices(staffed, ADMIN) == []

    await staffed.travel(minutes=14)
    assert notices(staffed, STAFF) == []  # not yet
    await staffed.travel(minutes=1)  # ALERT_RENOTIFY_MINUTES (15) and nobody acknowledged
    for chat in (STAFF, ADMIN):
        [again] = notices(staffed, chat)
        assert again.body.startswith(t("alert.renotify", minutes=15)) and "【至急】はなこさん" in again.body
    assert notices(staffed, DOC2) == [] and len(notices(staffed, DOC)) == 1


async def test_acknowledging_in_the_staff_chat_is_recorded_and_stops_the_renotification(staffed):
    await enrol(staffed)  # no clinician: alerts go to the staff chat
    await report(staffed, "saddle_numbness")
    await staffed.travel(seconds=1)
    [notice] = notices(staffed, STAFF)
    data = next(d for row in notice.buttons for _, d in row if d.startswith("ak:"))
    await staffed.travel(minutes=3)
    # a receptionist in the staff chat (neither clinician nor admin) takes it on
    await staffed.press_raw(RECEPTION, data, notice.message_id, chat=STAFF)
    [alert] = await staffed.rows(Outbox, Outbox.kind == "alert")
    assert alert.payload["ack"]["by"] == RECEPTION and alert.payload["ack"]["at"].startswith("2026-11-30T23:03")
    edited = staffed.standin.messages(STAFF)[-1]
    assert t("alert.acknowledged", name=alert.payload["ack"]["name"], when="12/1 08:03") in edited.body
    await staffed.travel(minutes=15)
    assert len(notices(staffed, STAFF)) <= 1 and notices(staffed, ADMIN) == []
    [renotify] = await staffed.rows(Outbox, Outbox.kind == "alert_renotify")
    assert renotify.state == "done"


async def test_only_the_patients_clinician_and_admins_acknowledge_in_a_private_chat(staffed):
    link = await join_clinician(staffed, DOC, "田中")
    await enrol_with(staffed, link)
    await join_clinician(staffed, DOC2, "佐藤")
    await report(staffed, "fever")
    await staffed.travel(seconds=1)
    [notice] = notices(staffed, DOC)
    data = next(d for row in notice.buttons for _, d in row if d.startswith("ak:"))
    for stranger in (DOC2, USER, 4242):  # forged presses of the same button
        await staffed.press_raw(stranger, data, notice.message_id)
        assert staffed.standin.callback_answers[-1][1] == t("clinic.refused")
    [alert] = await staffed.rows(Outbox, Outbox.kind == "alert")
    assert "ack" not in alert.payload
    await staffed.press(DOC, t("button.acknowledge"))
    [alert] = await staffed.rows(Outbox, Outbox.kind == "alert")
    assert (alert.payload["ack"]["by"], alert.payload["ack"]["name"]) == (DOC, "田中")
    assert await staffed.count(Outbox, Outbox.kind == "alert_renotify") == 0  # rest today: no re-notification


# --- clearance after emergency / same-day flags; the rest-today flag asked again ------------------------

async def pending(coach, kind: str) -> list:
    return await coach.rows(Outbox, Outbox.kind == kind, Outbox.state == "pending")


@pytest.mark.parametrize("flag", ["saddle_numbness", "knee_locking"], ids=["emergency", "same_day"])
async def test_after_an_emergency_or_same_day_flag_only_a_clinician_or_admin_resumes_the_program(clinic, flag):
    await enrol(clinic)
    body = await report(clinic, flag)
    assert advice(clinic, "redflag.held") in body  # why paused, whom to call
    # the patient's own resume is refused, with the same explanation
    await clinic.text(USER, "/settings")
    [refused] = await clinic.press(USER, t("button.resume"))
    assert refused.body == advice(clinic, "redflag.held")
    [p] = await clinic.rows(Patient)
    assert p.paused and await pending(clinic, "reminder") == []
    # someone who is neither the patient's clinician nor an admin cannot clear
    [no] = await clinic.text(USER, f"/clear {p.id}")
    assert no.body == t("clinic.refused")
    await clinic.travel(minutes=30)
    [done] = await clinic.text(ADMIN, f"/clear {p.id}")
    assert done.body == t("clinic.clear.done", nickname="はなこ", patient_id=p.id)
    [held] = await clinic.rows(Clearance)
    assert (held.cleared_by, held.tier) == (ADMIN, "emergency" if flag == "saddle_numbness" else "same_day")
    assert held.cleared_at - held.held_at == timedelta(minutes=30)
    [p] = await clinic.rows(Patient)
    assert not p.paused and len(await pending(clinic, "reminder")) == 1
    await clinic.travel(seconds=1)
    assert clinic.last(USER).startswith(t("redflag.cleared", nickname="はなこ", time="09:00"))
    [again] = await clinic.text(ADMIN, f"/clear {p.id}")  # nothing holds them any more
    assert again.body == t("clinic.clear.nothing", nickname="はなこ", patient_id=p.id)


async def test_after_a_rest_today_flag_the_next_morning_asks_again_and_a_clear_answer_resumes(clinic):
    await enrol(clinic)
    body = await report(clinic, "fever")
    assert t("redflag.ask_tomorrow", time="07:00") in body and advice(clinic, "redflag.held") not in body
    assert await clinic.count(Clearance) == 0
    await clinic.travel(hours=23)  # 07:00 the next morning
    asked = clinic.standin.last_message(USER)
    assert asked.body == t("redflag.again", nickname="はなこ")
    old = asked.buttons[0][0][1]
    [still] = await clinic.press(USER, t("button.flag_still"))  # still there: stays paused, asked again
    assert advice(clinic, "redflag.again_still") in still.body
    [p] = await clinic.rows(Patient)
    assert p.paused and await pending(clinic, "reminder") == []
    await clinic.travel(hours=24)
    assert clinic.last(USER) == t("redflag.again", nickname="はなこ")
    [ok] = await clinic.press(USER, t("button.flag_gone"))
    assert ok.body == t("redflag.again_ok", time="09:00")
    [p] = await clinic.rows(Patient)
    assert not p.paused and len(await pending(clinic, "reminder")) == 1
    assert await clinic.press_raw(USER, old, asked.message_id) == []  # yesterday's question: closed
    assert clinic.standin.callback_answers[-1][1] == t("common.closed")


async def test_a_rest_today_sign_still_there_two_mornings_alerts_the_clinician_once_and_asks_for_a_call(clinic):
    await enrol(clinic)
    await report(clinic, "fever")
    await clinic.travel(hours=23)  # 07:00 the next morning
    [first] = await clinic.press(USER, t("button.flag_still"))
    assert advice(clinic, "redflag.again_still") in first.body and "03-1234-5678" in first.body
    assert [a.payload["event"] for a in await clinic.rows(Outbox, Outbox.kind == "alert")] == ["red_flag"]
    await clinic.travel(hours=24)
    [second] = await clinic.press(USER, t("button.flag_still"))  # the second "still there" in a row
    assert second.body.startswith(advice(clinic, "redflag.again_still_call", days=2))
    assert "03-1234-5678" in second.body and t("redflag.informed") in second.body  # an admin receives it
    assert t("redflag.ask_again_tomorrow", time="07:00") in second.body  # still asked each morning
    await clinic.travel(seconds=1)
    [alert] = [m for m in clinic.standin.messages(ADMIN) if t("alert.event.rest_today_persists") in (m.body or "")]
    assert "はなこさん" in alert.body and t("flag.fever") in alert.body
    await clinic.travel(hours=24)
    [third] = await clinic.press(USER, t("button.flag_still"))
    assert third.body.startswith(advice(clinic, "redflag.again_still_call", days=3))
    assert t("redflag.informed") not in third.body
    events = [a.payload["event"] for a in await clinic.rows(Outbox, Outbox.kind == "alert")]
    assert events == ["red_flag", "rest_today_persists"]  # once, not daily
    await clinic.travel(hours=24)
    [ok] = await clinic.press(USER, t("button.flag_gone"))
    assert ok.body == t("redflag.again_ok", time="09:00")


# --- symptom words typed as free text ----------------------------------------------------------------

@pytest.mark.parametrize(("text", "flag"), [
    ("今日は足がしびれています", "numbness_weakness"), ("熱があります", "fever"),
    ("おしっこが出にくいです", "bladder_bowel"),
])
async def test_symptom_words_typed_at_any_moment_open_the_check_in(clinic, text, flag):
    await enrol(clinic)
    [reply] = await clinic.text(USER, text)  # no question is open
    assert reply.body.startswith(t("checkin.heard")) and t("common.no_question") not in reply.body
    # the signs the words suggest, one tap away; the other kinds and "none" too
    assert t(f"flag.{flag}") in reply.button_texts
    assert t("button.other_signs") in reply.button_texts and t("button.no_symptom") in reply.button_texts
    assert await clinic.count(RedFlagReport) == 0  # nothing recorded before a tap
    [kinds] = await clinic.press(USER, t("button.other_signs"))
    assert kinds.body == t("checkin.which_group") and t("checkin.group.nerves") in kinds.button_texts
    [answer] = await press_sign(clinic, "numbness_weakness")
    assert answer.body.startswith(advice(clinic, "decision.stop.red_flag_same_day"))


async def test_fever_typed_offers_the_same_day_signs_that_go_with_it_first(clinic):
    """「熱があります」: fever with a hot swollen knee (septic joint) and with back pain come before fever alone."""
    await enrol(clinic)
    [reply] = await clinic.text(USER, "熱があります")
    assert reply.button_texts[:3] == [t("flag.fever_hot_knee"), t("flag.fever_back_pain"), t("flag.fever")]
    [answer] = await clinic.press(USER, t("flag.fever_hot_knee"))
    assert answer.body.startswith(advice(clinic, "decision.stop.red_flag_same_day"))
    assert advice(clinic, "redflag.held") in answer.body  # same day: held until the clinic clears them
    [report] = await clinic.rows(RedFlagReport)
    assert report.flags == ["fever_hot_knee"]


@pytest.mark.parametrize(("text", "flag"), [
    ("運動中に胸が痛くなりました", "chest_pain"),
    ("歩いたら息苦しいです", "breathlessness"),
    ("めまいがします", "faint_dizzy"),
    ("脚に力が入らなくなってきました", "leg_weakness_worsening"),
])
async def test_an_emergency_sign_typed_says_119_first_and_its_button_reports_it(clinic, text, flag):
    """Chest pain, breathlessness, fainting, worsening weakness typed: the 119 line first (no waiting for a tap),
    then the sign as a button; the tap records it as its flag, with the emergency tier."""
    await enrol(clinic)
    [reply] = await clinic.text(USER, text)
    assert reply.body.startswith(t("checkin.heard_emergency")) and "今日のうちに" not in reply.body
    assert reply.button_texts[0] == t(f"flag.{flag}")
    [answer] = await clinic.press(USER, t(f"flag.{flag}"))
    assert answer.body.startswith(advice(clinic, "decision.stop.red_flag_urgent"))
    assert "119" in answer.body and "今日のうちに" not in answer.body
    assert advice(clinic, "redflag.held") in answer.body  # held until the clinic clears them
    [report] = await clinic.rows(RedFlagReport)
    assert (report.flags, report.source, report.urgent) == ([flag], "checkin", True)
    [alert] = await clinic.rows(Outbox, Outbox.kind == "alert")
    assert alert.payload["urgent"] is True
    [p] = await clinic.rows(Patient)
    assert p.paused and await clinic.count(Clearance) == 1


@pytest.mark.parametrize(("flag", "tier"), [(f, load_redflags().item_of(f).tier) for f in MENU_FLAGS],
                         ids=[str(f) for f in MENU_FLAGS])
async def test_every_sign_has_a_button_in_two_steps_and_is_recorded_with_its_tier(clinic, flag, tier):
    """/symptom: a handful of kinds (none of LINE's 13 quick replies exceeded), then the signs of that kind; every
    sign, the exercise emergencies included, is recorded as its Flag with its tier's advice."""
    await enrol(clinic)
    [kinds] = await clinic.text(USER, "/symptom")
    assert len(kinds.button_texts) <= 13
    group = next(g for g, flags in MENU_GROUPS.items() if flag in flags)
    [signs] = await clinic.press(USER, t(f"checkin.group.{group}"))
    assert len(signs.button_texts) <= 13 and t(f"flag.{flag}") in signs.button_texts
    [answer] = await clinic.press(USER, t(f"flag.{flag}"))
    assert answer.body.startswith(advice(clinic, TIER_TEXT[tier]))
    [report] = await clinic.rows(RedFlagReport)
    assert (report.flags, report.urgent) == ([str(flag)], tier == "emergency")
    [decision] = await clinic.rows(Decision)
    assert decision.message == TIER_TEXT[tier]


TIER_TEXT = {"emergency": "decision.stop.red_flag_urgent", "same_day": "decision.stop.red_flag_same_day",
             "rest_today": "decision.stop.red_flag_rest_today"}


@pytest.mark.parametrize("text", ["息子が熱心に郵便を出しに行きました", "しびれはありません", "ありがとう"])
async def test_other_words_still_get_the_usual_answer(clinic, text):
    await enrol(clinic)
    [reply] = await clinic.text(USER, text)
    assert reply.body == t("common.no_question")


async def test_each_decision_records_what_produced_it(clinic):
    await enrol(clinic)  # knee
    await report(clinic, "fever")
    [decision] = await clinic.rows(Decision)
    versions = decision.versions
    assert versions["redflags"] == load_redflags().version
    assert re.fullmatch(r"[0-9a-f]{12}", versions["thresholds"]) and re.fullmatch(r"knee:[0-9a-f]{12}",
                                                                                  versions["program"])


# --- the signup screen ----------------------------------------------------------------------------------

async def to_the_screen(coach, condition: str) -> str:
    await coach.text(USER, "/trial")
    await coach.press(USER, "同意して始める")
    await coach.press(USER, t(f"condition.{condition}"))
    await coach.text(USER, "3")
    await coach.press(USER, "いいえ")  # no fall in the last year
    await coach.press(USER, "いいえ")  # not unsteady
    [screen] = await coach.press(USER, "どれも当てはまらない")  # today's warning signs: none
    return screen.body


@pytest.mark.parametrize(("condition", "asked", "not_asked"), [
    ("low_back", "redflag.q.back_onset_age", "redflag.q.knee_locks"),
    ("knee", "redflag.q.knee_locks", "redflag.q.back_onset_age"),
    ("both", "redflag.q.back_weight_loss", None),
], ids=["low_back", "knee", "both"])
async def test_signup_asks_the_guideline_screen_of_the_condition(clinic, condition, asked, not_asked):
    body = await to_the_screen(clinic, condition)
    assert t(asked) in body and (not_asked is None or t(not_asked) not in body)
    if condition == "both":
        assert t("redflag.q.knee_locks") in body and body.count(t("redflag.q.back_fever")) == 1  # fever asked once
    # the age item asks when this pain first started, not today's age
    assert condition == "knee" or "最初に始まった" in body


async def test_a_screen_yes_enrols_the_patient_held_until_an_admin_clears_them(clinic):
    body = await to_the_screen(clinic, "low_back")
    numbered = body.splitlines()
    weight_loss = next(line for line in numbered if t("redflag.q.back_weight_loss") in line).split(".")[0]
    await clinic.press(USER, t("button.some_apply"))
    [reply] = await clinic.press(USER, weight_loss)
    assert reply.body.startswith(advice(clinic, "redflag.advice.screen_back")) and "03-1234-5678" in reply.body
    assert t("redflag.informed") in reply.body  # the admin receives the staff notice
    await clinic.text(USER, "09:00")
    await clinic.press(USER, "07:00")
    await clinic.text(USER, "はなこ")
    await clinic.press(USER, "この内容で始める")
    [p] = await clinic.rows(Patient)
    [held] = await clinic.rows(Clearance)
    assert p.paused and (held.tier, held.flags, held.cleared_at) == ("screen_back", ["back_weight_loss"], None)
    await clinic.travel(seconds=1)
    admin = [m.body for m in clinic.standin.messages(ADMIN)]
    assert any(b.startswith("【体験申込・受診案内】") and t("alert.tier.screen_back") in b for b in admin)
    assert any(b.startswith("【要確認】はなこさん") and "体重減少" in b for b in admin)  # the alert names the item
    await clinic.text(USER, "/settings")
    [refused] = await clinic.press(USER, t("button.resume"))
    assert refused.body == advice(clinic, "redflag.held")
    await clinic.text(ADMIN, f"/clear {p.id}")
    [p] = await clinic.rows(Patient)
    assert not p.paused and len(await pending(clinic, "reminder")) == 1


@pytest.mark.parametrize(("when", "typed"), [("screen", "1と3"), ("screen", "１、３"), ("which", "1番と3番です")])
async def test_every_screen_number_typed_as_a_list_is_recorded(clinic, when, typed):
    body = await to_the_screen(clinic, "low_back")
    items = load_redflags().signup_screen("low_back")
    assert "「1と3」のように入力" in body
    if when == "which":
        await clinic.press(USER, t("button.some_apply"))
    [reply] = await clinic.text(USER, typed)
    assert reply.body.startswith(t("signup.screen_recorded", numbers="1・3"))
    assert advice(clinic, "redflag.advice.screen_back") in reply.body and t("signup.time") in reply.body
    [report] = await clinic.rows(RedFlagReport)
    assert report.flags == [items[0].id, items[2].id]
    await clinic.travel(seconds=1)
    [notice] = [m for m in clinic.standin.messages(ADMIN) if m.body.startswith("【体験申込・受診案内】")]
    assert items[0].label in notice.body and items[2].label in notice.body  # both named to the staff
    await clinic.text(USER, "09:00")
    await clinic.press(USER, "07:00")
    await clinic.text(USER, "はなこ")
    await clinic.press(USER, "この内容で始める")
    [held] = await clinic.rows(Clearance)
    assert held.flags == [items[0].id, items[2].id]


@pytest.mark.parametrize("typed", ["2と12", "0"])
async def test_a_screen_number_out_of_range_gets_a_kind_answer_and_changes_nothing(clinic, typed):
    await to_the_screen(clinic, "knee")  # five items
    [reply] = await clinic.text(USER, typed)
    assert reply.body.startswith(t("signup.screen_out_of_range", last=5))
    assert t("redflag.q.knee_locks") in reply.body and t("button.some_apply") in reply.button_texts  # asked again
    assert await clinic.count(RedFlagReport) == 0
    [other] = await clinic.text(USER, "わかりません")
    assert other.body.startswith(t("signup.screen_numbers_retry"))
    [reply] = await clinic.text(USER, "5")
    assert reply.body.startswith(t("signup.screen_recorded", numbers="5"))


async def test_signup_asks_todays_signs_in_two_steps_with_a_way_back_and_none(clinic):
    await clinic.text(USER, "/trial")
    await clinic.press(USER, "同意して始める")
    await up_to_todays_signs(clinic, condition=t("condition.knee"))  # no fall, not unsteady
    [kinds] = await clinic.press(USER, t("button.some_apply"))
    assert kinds.body == t("checkin.which_group") and len(kinds.button_texts) == len(MENU_GROUPS) + 1
    [signs] = await clinic.press(USER, t("checkin.group.sudden"))
    assert signs.button_texts == [*(t(f"flag.{f}") for f in MENU_GROUPS["sudden"]), t("button.other_signs")]
    [back] = await clinic.press(USER, t("button.other_signs"))
    assert back.body == t("checkin.which_group")
    [screen] = await clinic.press(USER, t("button.no_symptom"))  # none after all: on to the guideline screen
    assert t("redflag.q.knee_locks") in screen.body
    assert await clinic.count(RedFlagReport) == 0


async def test_an_emergency_sign_at_signup_gets_119_at_once_and_an_urgent_notice(clinic):
    await clinic.text(USER, "/trial")
    await clinic.press(USER, "同意して始める")
    await up_to_todays_signs(clinic, condition=t("condition.low_back"))  # no fall, not unsteady
    await clinic.press(USER, t("button.some_apply"))
    [reply] = await press_sign(clinic, "chest_pain")  # an emergency of exercise has its button at signup too
    assert reply.body.startswith(advice(clinic, "redflag.advice.emergency")) and "今日のうちに" not in reply.body
    await clinic.travel(seconds=1)
    [notice] = [m for m in clinic.standin.messages(ADMIN) if m.body.startswith("【至急】【体験申込】")]
    assert t("alert.tier.emergency") in notice.body and t("button.acknowledge") in notice.button_texts
    assert notice.links() == [(t("alert.chat_link_signup"), f"tg://user?id={USER}")]
    await clinic.press(ADMIN, t("button.acknowledge"))
    [row] = await clinic.rows(Outbox, Outbox.kind == "staff_notice")
    assert row.payload["ack"]["by"] == ADMIN


async def signup_sign(coach, flag: str) -> str:
    """/trial up to today's warning signs, and this one reported: what the person was told."""
    await coach.text(USER, "/trial")
    await coach.press(USER, "同意して始める")
    await up_to_todays_signs(coach, condition=t("condition.knee"))  # no fall, not unsteady
    await coach.press(USER, t("button.some_apply"))
    [reply] = await press_sign(coach, flag)
    return reply.body


def signup_notices(coach, chat: int) -> list:
    return [m for m in coach.standin.messages(chat) if "【体験申込" in (m.body or "")]


@pytest.mark.parametrize(("flag", "first_line"), [("chest_pain", "alert.renotify"),
                                                  ("cannot_bear_weight", "alert.renotify_same_day")],
                         ids=["emergency", "same_day"])
async def test_a_signup_notice_of_an_emergency_or_same_day_sign_is_sent_again_unacknowledged(staffed, flag,
                                                                                            first_line):
    told = await signup_sign(staffed, flag)
    tier = "emergency" if flag == "chest_pain" else "same_day"  # that tier's advice at once, one verb
    assert told.startswith(advice(staffed, f"redflag.advice.{tier}"))
    assert ("今日のうちに" in told) == (tier == "same_day") and ("いますぐ" in told) == (tier == "emergency")
    await staffed.travel(seconds=1)
    [notice] = signup_notices(staffed, STAFF)  # the staff chat replaces the admins for the first notice
    assert signup_notices(staffed, ADMIN) == []
    await staffed.travel(minutes=14)
    assert len(signup_notices(staffed, STAFF)) == 1  # not yet
    await staffed.travel(minutes=1)  # ALERT_RENOTIFY_MINUTES (15), nobody pressed 「対応しました」
    for chat in (STAFF, ADMIN):
        again = signup_notices(staffed, chat)[-1]
        assert again.body.startswith(t(first_line, minutes=15)) and notice.body in again.body
        assert again.links() == notice.links() and t("button.acknowledge") in again.button_texts
    await staffed.travel(minutes=30)
    assert len(signup_notices(staffed, STAFF)) == 2 and len(signup_notices(staffed, ADMIN)) == 1  # once


async def test_an_acknowledged_signup_notice_and_a_screen_notice_are_not_sent_again(staffed):
    await signup_sign(staffed, "saddle_numbness")
    await staffed.travel(seconds=1)
    [notice] = signup_notices(staffed, STAFF)
    data = next(d for row in notice.buttons for _, d in row if d.startswith("ak:"))
    await staffed.press_raw(RECEPTION, data, notice.message_id, chat=STAFF)  # taken on in the staff chat
    await staffed.travel(minutes=20)
    assert len(signup_notices(staffed, STAFF)) == 1 and signup_notices(staffed, ADMIN) == []
    [renotify] = await staffed.rows(Outbox, Outbox.kind == "notice_renotify")
    assert renotify.state == "done"
    # a guideline screen "yes" (evaluation first): no re-notification planned
    await staffed.text(USER, "/cancel")
    await to_the_screen(staffed, "low_back")
    await staffed.press(USER, t("button.some_apply"))
    await staffed.press(USER, "1")
    assert await staffed.count(Outbox, Outbox.kind == "notice_renotify") == 1


async def test_a_same_day_alert_about_a_patient_is_sent_again_marked_as_a_resend(staffed):
    await enrol(staffed)  # no clinician: the staff chat receives the alert
    await report(staffed, "knee_locking")
    await staffed.travel(minutes=15)
    [again] = [m for m in notices(staffed, ADMIN)]
    assert again.body.startswith(t("alert.renotify_same_day", minutes=15)) and "【至急】" not in again.body


async def test_an_alert_that_reaches_no_one_tells_the_patient_to_phone_the_clinic(staffed):
    """The patient read "the clinic has been informed" (their clinician exists), but the clinician blocked the
    bot: the alert fails, the patient is told to phone the clinic, and is not marked unreachable."""
    link = await join_clinician(staffed, DOC, "田中")
    await enrol_with(staffed, link)
    staffed.standin.block(DOC)
    body = await report(staffed, "fever")
    assert t("redflag.informed") in body
    await staffed.travel(seconds=1)
    [alert] = await staffed.rows(Outbox, Outbox.kind == "alert")
    assert alert.state == "failed"
    await staffed.travel(seconds=1)
    assert staffed.last(USER) == advice(staffed, "redflag.undelivered")
    [p] = await staffed.rows(Patient)
    assert not p.unreachable


async def test_an_alert_that_reached_someone_sends_no_follow_up(staffed):
    await enrol(staffed)  # no clinician: the staff chat receives it
    await report(staffed, "fever")
    await staffed.travel(seconds=1)
    await staffed.travel(seconds=1)
    [alert] = await staffed.rows(Outbox, Outbox.kind == "alert")
    assert alert.state == "sent" and await staffed.count(Outbox, Outbox.kind == "alert_undelivered") == 0
