"""The same journey as on Telegram, on LINE: follow -> signup with consent -> reminder -> ratings -> next step ->
next morning -> red flag -> the clinician's notice (clinicians stay on Telegram). Answers to what the patient did
go with the free reply token; what the bot starts (reminders, questions) is a push."""

from __future__ import annotations

from sqlmodel import col

from bot.channels import LINE_ID_BASE
from bot.i18n import t
from bot.storage.models import Decision, ExerciseSession, LineUsage, LineUser, Patient
from tests.helpers import advice, enrol, press_sign
from tests.line.conftest import ADMIN


async def test_a_patient_on_line_walks_the_whole_loop(line_coach, line, patient):
    coach = line_coach
    welcome = await coach.follow(patient)
    assert welcome and all(m.via == "reply" for m in welcome)  # the welcome answers the follow, free
    await enrol(coach, patient)
    [p] = await coach.rows(Patient)
    [known] = await coach.rows(LineUser)
    assert known.line_user_id == patient and p.telegram_user_id == known.telegram_user_id >= LINE_ID_BASE
    assert p.nickname == "はなこ" and p.chat_id == p.telegram_user_id
    await coach.travel(seconds=1)
    assert any("はなこ" in (m.body or "") for m in coach.standin.messages(ADMIN))  # the enrolment notice

    # day 1, 09:00: the reminder is a push with its buttons as quick replies on its last message
    await coach.travel(hours=1)
    reminder = line.messages(patient)[-1]
    assert reminder.via == "push" and "今から始める" in coach.last_buttons(patient)
    started = await coach.press(patient, "今から始める")
    assert started and all(m.via == "reply" for m in started)  # the answer to a tap: the reply token
    assert [str(n) for n in range(11)] == coach.last_buttons(patient)  # 0-10 fits LINE's 13 quick replies
    await coach.press(patient, "2")
    await coach.press(patient, "1つ目が終わった")
    await coach.press(patient, "2")
    if "全部終わった" in coach.last_buttons(patient):
        await coach.press(patient, "全部終わった")
        await coach.press(patient, "1")
    [s] = await coach.rows(ExerciseSession, col(ExerciseSession.patient_id) == p.id)
    assert (s.before, s.during) == (2, 2)

    # next morning 07:00: the question is a push; a typed full-width answer is understood as on Telegram
    await coach.travel(hours=22)
    assert line.messages(patient)[-1].via == "push"
    answer = await coach.text(patient, "２")
    assert answer and answer[0].via == "reply"
    [s] = await coach.rows(ExerciseSession, col(ExerciseSession.patient_id) == p.id)
    assert s.next_morning == 2
    assert await coach.rows(Decision, col(Decision.patient_id) == p.id)  # the rules decided the next step

    # a red flag: the check-in's two steps as quick replies; 119 first; the clinician is alerted on Telegram
    await coach.text(patient, "/symptom")
    [*_, reply] = await press_sign(coach, "bladder_bowel", user=patient)
    assert reply.text.startswith(advice(coach, "decision.stop.red_flag_urgent")) and "119" in reply.text
    assert reply.via == "reply"  # a safety answer to the patient's own report: the free reply token
    await coach.travel(seconds=1)
    alert = coach.standin.messages(ADMIN)[-1]
    assert "はなこ" in alert.body and t("flag.bladder_bowel") in alert.body, alert.body
    assert not alert.entities  # a LINE user has no Telegram chat to link to: the name stays plain text
    [p] = await coach.rows(Patient)
    assert p.paused

    [usage] = await coach.rows(LineUsage)
    assert usage.pushes == line.pushes_used > 0 and usage.replies > usage.pushes  # most messages were free


async def test_line_patients_type_their_name_and_see_no_telegram_button(line_coach, patient):
    await line_coach.follow(patient)
    await line_coach.text(patient, "/trial")
    await line_coach.press(patient, "同意して始める")
    from tests.helpers import answer_signup

    await answer_signup(line_coach, patient)
    assert line_coach.last(patient) == t("signup.nickname")
    assert line_coach.last_buttons(patient) == []  # LINE does not give the bot the person's name


async def test_a_message_that_asks_nothing_carries_the_main_commands(line_coach, line, patient):
    """LINE has no command menu: the main commands come as quick replies; a tap runs the command."""
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.text(patient, "/history")
    assert line_coach.last_buttons(patient) == [t(f"command.{c}") for c in
                                                ("today", "symptom", "ask", "history", "settings", "help")]
    shown = await line_coach.press(patient, t("command.today"))
    assert shown and shown[0].via == "reply" and "今日" in "".join(m.text or "" for m in shown)


async def test_the_month_s_pushes_and_their_projection_show_in_the_summary_and_status(line_coach, line, patient):
    from bot.health import figures

    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.travel(hours=1)  # a reminder pushed
    found = (await figures(line_coach.rt))["line"]
    assert found["pushes"] == line.pushes_used > 0 and found["line_patients"] == 1
    assert found["replies"] > 0 and found["cap"] is None
    assert found["pushes_per_patient_month"] == found["pushes_projected"] > found["pushes"]
    await line_coach.text(ADMIN, "/summary")
    said = [m.body for m in line_coach.standin.messages(ADMIN) if (m.body or "").startswith("【LINE】今月")]
    assert said and f"プッシュ送信 {found['pushes']} 通（上限の設定なし）" in said[-1]
