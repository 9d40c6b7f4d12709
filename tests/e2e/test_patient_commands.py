"""What a patient sees for each command: /start /help /why /today /history /settings /mydata /delete
/symptom, the command menu registered with Telegram, and red flags (check-in and signup screening)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.i18n import has, t
from bot.storage.models import Decision, ExerciseSession, Outbox, Patient, RedFlagReport
from rules import load_program
from tests.helpers import USER, advice, enrol, press_sign


def msg(key: str, **params: object) -> str:
    assert has(key), f"{key} missing from the catalogue"
    return t(key, **params)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CONSENT_SCREEN = t("signup.consent", what=t("consent.what", days=365))


async def pending_reminders(coach) -> list[Outbox]:
    return sorted(await coach.rows(Outbox, Outbox.kind == "reminder", Outbox.state == "pending"),
                  key=lambda r: r.due_at)


# --- /start /help /why ----------------------------------------------------------------------------------

async def test_start_for_a_stranger_and_for_a_patient(coach):
    [reply] = await coach.text(USER, "/start")
    assert reply.body == msg("start.welcome")
    assert reply.button_texts == [msg("button.trial")]
    [consent] = await coach.press(USER, msg("button.trial"))
    assert consent.body == CONSENT_SCREEN

    await enrol(coach)
    [reply] = await coach.text(USER, "/start")
    assert reply.body.startswith(msg("start.patient", nickname="はなこ", time="09:00"))
    assert "【今日の運動】" in reply.body and "いすからの立ち上がり" in reply.body


async def test_start_during_signup_resumes_the_question(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, msg("button.consent"))
    [reply] = await coach.text(USER, "/start")
    assert reply.body.startswith(msg("signup.resume")) and msg("signup.condition") in reply.body
    assert msg("condition.knee") in reply.button_texts


async def test_help(coach):
    [reply] = await coach.text(USER, "/help")
    assert reply.body == msg("help.text")
    assert "/today" in reply.body and "/delete" in reply.body


# --- /today and /history ---------------------------------------------------------------------------------

async def test_today_shows_the_plan_and_starts_the_session(coach):
    await enrol(coach)
    [reply] = await coach.text(USER, "/today")
    assert reply.body.startswith(msg("today.title", nickname="はなこ"))
    assert "いすからの立ち上がり" in reply.body
    assert msg("today.status.planned", time="09:00") in reply.body
    assert reply.button_texts[0] == msg("button.start_now")  # then 「やり方を見る」 per exercise
    assert reply.button_texts[1:] == [msg("button.how_to", name=x.name) for x in load_program("knee").exercises]

    [question] = await coach.press(USER, msg("button.start_now"))
    assert question.body == msg("ask.before")
    [session] = await coach.rows(ExerciseSession)
    assert session.status == "started"

    # the 09:00 reminder does not come: the session already started
    await coach.travel(hours=1)
    assert coach.standin.last_message(USER).message_id == question.message_id
    [reply] = await coach.text(USER, "/today")
    assert msg("today.status.started") in reply.body  # no start button: only 「やり方を見る」 per exercise
    assert reply.button_texts == [msg("button.how_to", name=x.name) for x in load_program("knee").exercises]


async def test_history_after_a_session(coach):
    await enrol(coach)
    [reply] = await coach.text(USER, "/history")
    assert reply.body == msg("history.empty")
    await coach.travel(hours=1)
    await coach.press(USER, msg("button.start_now"))
    await coach.press(USER, "2")
    await coach.press(USER, msg("button.first_done"))
    await coach.press(USER, "3")
    await coach.press(USER, msg("button.all_done"))
    await coach.press(USER, "1")
    [reply] = await coach.text(USER, "/history")
    assert reply.body.startswith(msg("history.title"))
    assert msg("history.header") in reply.body and msg("history.legend") in reply.body
    row = msg("history.row", date="12/01", before=2, during=3, after=1, morning="－",
              status=msg("history.status.done"))
    assert row in reply.body.splitlines()


# --- /settings ---------------------------------------------------------------------------------------------

async def test_settings_change_time_by_button_and_typed(coach):
    await enrol(coach)
    [old] = await pending_reminders(coach)
    assert old.due_at == utc(2026, 12, 1, 0, 0)

    [menu] = await coach.text(USER, "/settings")
    assert menu.body == msg("settings.menu", time="09:00", morning="07:00", condition=msg("condition.knee"),
                            state=msg("settings.running"))
    [ask] = await coach.press(USER, msg("button.change_time"))
    assert ask.body == msg("settings.ask_time")
    [saved] = await coach.press(USER, "18:00")
    assert saved.body == msg("settings.saved_exercise_time", time="18:00")
    [p] = await coach.rows(Patient)
    assert (p.exercise_time, p.awaiting) == ("18:00", None)
    [reminder] = await pending_reminders(coach)
    assert reminder.due_at == utc(2026, 12, 1, 9, 0)  # 18:00 Tokyo today

    await coach.text(USER, "/settings")
    await coach.press(USER, msg("button.change_time"))
    [saved] = await coach.text(USER, "１９時")
    assert saved.body == msg("settings.saved_exercise_time", time="19:00")
    [p] = await coach.rows(Patient)
    assert (p.exercise_time, p.awaiting) == ("19:00", None)
    [reminder] = await pending_reminders(coach)
    assert reminder.due_at == utc(2026, 12, 1, 10, 0)  # 19:00 Tokyo today
    cancelled = await coach.rows(Outbox, Outbox.kind == "reminder", Outbox.state == "cancelled")
    assert utc(2026, 12, 1, 0, 0) in {r.due_at for r in cancelled}

    # nothing at 09:00 any more; the reminder comes at 19:00
    await coach.travel(hours=2)
    assert "運動の時間です" not in coach.last(USER)
    await coach.travel(hours=9)
    assert msg("reminder.text", nickname="はなこ") in coach.last(USER)
    [tomorrow] = await pending_reminders(coach)
    assert tomorrow.due_at == utc(2026, 12, 2, 10, 0)


async def test_settings_typed_time_that_cannot_be_read(coach):
    await enrol(coach)
    await coach.text(USER, "/settings")
    await coach.press(USER, msg("button.change_time"))
    [reply] = await coach.text(USER, "そのうち")
    assert reply.body == msg("signup.time_retry")
    [p] = await coach.rows(Patient)
    assert p.exercise_time == "09:00"


async def test_changing_the_time_after_todays_reminder_keeps_the_daily_chain(coach):
    await enrol(coach)
    await coach.travel(hours=1)  # today's 09:00 reminder is delivered
    await coach.press(USER, msg("button.skip"))
    await coach.text(USER, "/settings")
    await coach.press(USER, msg("button.change_time"))
    await coach.text(USER, "9:00")  # the same time again
    [reminder] = await pending_reminders(coach)
    assert reminder.due_at == utc(2026, 12, 2, 0, 0)  # tomorrow 09:00 Tokyo


async def test_settings_pause_and_resume(coach):
    await enrol(coach)
    await coach.text(USER, "/settings")
    [reply] = await coach.press(USER, msg("button.pause"))
    assert reply.body == msg("settings.paused_now")
    [p] = await coach.rows(Patient)
    assert p.paused
    assert await pending_reminders(coach) == []
    [menu] = await coach.text(USER, "/settings")
    assert msg("settings.paused") in menu.body and msg("button.resume") in menu.button_texts
    [today] = await coach.text(USER, "/today")
    assert msg("status.paused") in today.body and today.buttons == []

    sent = len(coach.standin.messages(USER))
    await coach.travel(hours=25)
    assert not any("運動の時間です" in (m.body or "") for m in coach.standin.messages(USER)[sent:])

    [reply] = await coach.press(USER, msg("button.resume"))
    assert reply.body == msg("settings.resumed", time="09:00")
    [p] = await coach.rows(Patient)
    assert not p.paused
    [reminder] = await pending_reminders(coach)
    assert reminder.due_at == utc(2026, 12, 3, 0, 0)  # now 12/02 09:00 Tokyo: the next is 12/03 09:00
    await coach.travel(hours=24)
    assert msg("reminder.text", nickname="はなこ") in coach.last(USER)


async def test_pause_and_resume_on_the_same_day_still_reminds(coach):
    await enrol(coach)
    await coach.text(USER, "/settings")
    await coach.press(USER, msg("button.pause"))
    await coach.text(USER, "/settings")
    await coach.press(USER, msg("button.resume"))
    [reminder] = await pending_reminders(coach)
    assert reminder.due_at == utc(2026, 12, 1, 0, 0)
    await coach.travel(hours=1)
    assert msg("reminder.text", nickname="はなこ") in coach.last(USER)


async def test_settings_change_condition(coach):
    await enrol(coach)
    await coach.text(USER, "/settings")
    [ask] = await coach.press(USER, msg("button.change_condition"))
    assert ask.body == msg("settings.ask_condition")
    [saved] = await coach.press(USER, msg("condition.low_back"))
    assert saved.body.startswith(msg("settings.saved_condition", condition=msg("condition.low_back")))
    assert "【今日の運動】" in saved.body
    [p] = await coach.rows(Patient)
    assert p.condition == "low_back"
    [menu] = await coach.text(USER, "/settings")
    assert f"痛みの種類：{msg('condition.low_back')}" in menu.body


# --- /mydata and /delete ------------------------------------------------------------------------------------

async def test_mydata_sends_a_json_document(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, msg("button.start_now"))
    await coach.press(USER, "2")
    [doc] = await coach.text(USER, "/mydata")
    assert doc.kind == "document"
    assert doc.body == msg("mydata.caption")
    assert doc.file_name.endswith(".json")
    data = json.loads(doc.file_bytes.decode("utf-8"))
    assert data["patient"]["nickname"] == "はなこ" and data["patient"]["telegram_user_id"] == USER
    [session] = data["sessions"]
    assert session["before"] == 2 and session["status"] == "started"
    assert [d["stage"] for d in data["decisions"]] == ["before"]
    assert {"questions", "red_flags", "scheduled_messages"} <= data.keys()


async def test_delete_then_keep(coach):
    await enrol(coach)
    [confirm] = await coach.text(USER, "/delete")
    assert confirm.body == msg("delete.confirm")
    assert confirm.button_texts == [msg("button.delete_yes"), msg("button.delete_no")]
    [kept] = await coach.press(USER, msg("button.delete_no"))
    assert kept.body == msg("delete.kept")
    assert await coach.count(Patient) == 1
    assert len(await pending_reminders(coach)) == 1
    [reply] = await coach.text(USER, "/today")
    assert reply.body.startswith(msg("today.title", nickname="はなこ"))


# --- the command menu ----------------------------------------------------------------------------------------

async def test_commands_registered_with_telegram(coach):
    commands = dict(coach.standin.commands_for())
    assert commands["trial"] == msg("command.trial") == "体験申込"
    assert commands["today"] == msg("command.today")
    for name in ("start", "history", "settings", "symptom", "why", "help", "mydata", "delete"):
        assert commands[name] == msg(f"command.{name}")
    assert all(desc and not desc.startswith("command.") for desc in commands.values())


# --- red flags ------------------------------------------------------------------------------------------------

async def do_session(coach) -> None:
    await coach.travel(hours=1)
    await coach.press(USER, msg("button.start_now"))
    await coach.press(USER, "2")
    await coach.press(USER, msg("button.first_done"))
    await coach.press(USER, "2")
    await coach.press(USER, msg("button.all_done"))
    await coach.press(USER, "2")


async def test_next_morning_red_flag_urgent(coach):
    await enrol(coach)
    await do_session(coach)
    await coach.travel_to(utc(2026, 12, 1, 22, 0))  # 07:00 Tokyo next morning
    morning = coach.standin.last_message(USER)
    assert msg("checkin.question") in morning.body
    [menu] = await coach.press(USER, msg("button.symptom"))
    assert menu.body == msg("checkin.which_group")  # which kind first, then its signs
    assert msg("checkin.group.nerves") in menu.button_texts and msg("button.no_symptom") in menu.button_texts

    [reply] = await press_sign(coach, "bladder_bowel")
    assert reply.body.startswith(advice(coach, "decision.stop.red_flag_urgent"))
    assert advice(coach, "redflag.held") in reply.body
    [report] = await coach.rows(RedFlagReport)
    assert (report.urgent, report.flags, report.source) == (True, ["bladder_bowel"], "checkin")
    [p] = await coach.rows(Patient)
    assert p.paused
    [alert] = await coach.rows(Outbox, Outbox.kind == "alert")
    assert alert.patient_id == p.id and alert.payload["urgent"] is True
    assert await pending_reminders(coach) == []
    [decision] = await coach.rows(Decision, Decision.stage == "checkin")
    assert (decision.action, decision.urgent) == ("stop", True)
    # the morning question cannot be answered any more
    assert await coach.press_raw(USER, morning.buttons[0][0][1], morning.message_id) == []
    assert coach.standin.callback_answers[-1][1] == msg("common.closed")


async def test_symptom_command_non_urgent_flag(coach):
    await enrol(coach)
    [menu] = await coach.text(USER, "/symptom")
    assert menu.body == msg("checkin.which_group")
    [reply] = await press_sign(coach, "swelling")
    assert reply.body.startswith(advice(coach, "decision.stop.red_flag_rest_today"))
    assert advice(coach, "decision.stop.red_flag_urgent") not in reply.body
    [report] = await coach.rows(RedFlagReport)
    assert (report.urgent, report.flags) == (False, ["swelling"])
    [p] = await coach.rows(Patient)
    assert p.paused
    assert await coach.count(Outbox, Outbox.kind == "alert") == 1
    assert await pending_reminders(coach) == []


async def test_symptom_none(coach):
    await enrol(coach)
    await coach.text(USER, "/symptom")
    [reply] = await coach.press(USER, msg("button.no_symptom"))
    assert reply.body == msg("checkin.none")
    assert await coach.count(RedFlagReport) == 0
    [p] = await coach.rows(Patient)
    assert not p.paused


async def test_a_signup_red_flag_means_evaluation_first_not_refusal(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, msg("button.consent"))
    await coach.press(USER, msg("condition.knee"))
    [falls] = await coach.text(USER, "4")
    assert falls.body == msg("signup.falls")
    await coach.press(USER, msg("button.no"))
    [screen] = await coach.press(USER, msg("button.no"))  # not unsteady either: no note, the safety check
    assert msg("flag.swelling") in screen.body and msg("signup.fall_risk_noted") not in screen.body
    [which] = await coach.press(USER, msg("button.some_apply"))
    assert which.body == msg("checkin.which_group")
    [reply] = await press_sign(coach, "swelling")
    assert reply.body.startswith(advice(coach, "redflag.advice.screen_back"))
    assert advice(coach, "redflag.call_clinic") in reply.body  # nobody configured to receive the notice
    assert msg("signup.held_continue") in reply.body and msg("signup.time") in reply.body
    [report] = await coach.rows(RedFlagReport)
    assert (report.source, report.flags, report.urgent, report.patient_id) == ("signup", ["swelling"], False, None)
    [notice] = await coach.rows(Outbox, Outbox.kind == "staff_notice")
    assert notice.payload["event"] == "signup_red_flag" and notice.payload["detail"] == msg("flag.swelling")
    # not refused: the signup goes on, and the patient waits for the clinic's clearance
    await coach.text(USER, "09:00")
    await coach.press(USER, "07:00")
    await coach.text(USER, "はなこ")
    [welcome] = await coach.press(USER, "この内容で始める")
    assert welcome.body == advice(coach, "signup.welcome_held", nickname="はなこ")
    [p] = await coach.rows(Patient)
    assert p.paused and await pending_reminders(coach) == []
    [report] = await coach.rows(RedFlagReport)
    assert report.patient_id == p.id


async def test_signup_urgent_red_flag(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, msg("button.consent"))
    await coach.press(USER, msg("condition.low_back"))
    await coach.press(USER, "5")
    await coach.press(USER, msg("button.no"))  # no fall in the last year
    await coach.press(USER, msg("button.no"))  # not unsteady
    await coach.press(USER, msg("button.some_apply"))
    [reply] = await press_sign(coach, "saddle_numbness")
    assert reply.body.startswith(advice(coach, "redflag.advice.emergency"))  # 119 at once
    assert "今日のうちに" not in reply.body
    [report] = await coach.rows(RedFlagReport)
    assert report.urgent
    assert await coach.count(Patient) == 0
