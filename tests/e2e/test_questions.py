"""「質問する」 (issue 10 §2) end to end: the patient asks, the clinician (else the staff chat or the admins) gets
it with 返信する, the reply reaches the patient in the bot's voice; symptom words open the check-in at once;
outside the clinic's hours the patient is told when to expect an answer; a question unanswered for a day goes
to the admins and tops the weekly summary."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import t
from bot.storage.models import AuditEntry, Patient, PatientQuestion
from tests.e2e.test_clinicians import ADMIN, DOC, DOC2, REFUSED, join
from tests.harness import Coach
from tests.helpers import USER, enrol

QUESTION = "スクワットは毎日やっても大丈夫ですか？"
STAFF = -1007777
RECEPTION = 7100  # a member of the staff chat, neither clinician nor admin


async def ask(coach, text: str = QUESTION, user: int = USER) -> list:
    asked = await coach.text(user, "/ask")
    assert asked[-1].body == t("question.ask", nickname="はなこ")
    return await coach.text(user, text)


async def test_a_question_goes_to_the_clinician_and_the_reply_comes_back(clinic):
    await join(clinic, DOC, "田中")
    await enrol(clinic)
    [p] = await clinic.rows(Patient)
    sent = await ask(clinic)
    assert sent[-1].body == t("question.sent")
    await clinic.travel(seconds=5)
    relay = clinic.standin.last_message(DOC)
    assert relay.body.startswith("【質問】はなこさん（患者ID 1）から") and QUESTION in relay.body
    assert t("button.reply_question") in relay.button_texts
    assert not any(QUESTION in (m.body or "") for m in clinic.standin.messages(ADMIN))  # their clinician only
    # another clinician may not answer
    await join(clinic, DOC2, "佐藤")
    await clinic.press_raw(DOC2, relay.buttons[0][0][1], message_id=relay.message_id)
    assert clinic.standin.callback_answers[-1][1] == REFUSED
    # the clinician presses 返信する and writes the reply
    prompt = await clinic.press(DOC, t("button.reply_question"))
    assert QUESTION in prompt[-1].body
    done = await clinic.text(DOC, "はい、痛みが目安の範囲なら毎日で大丈夫です。")
    assert done[-1].body.startswith(t("control.done.reply", nickname="はなこ", id=p.id))
    await clinic.travel(seconds=5)
    assert clinic.last(USER) == t("question.answer", name="田中", question=QUESTION,
                                  answer="はい、痛みが目安の範囲なら毎日で大丈夫です。")
    [q] = await clinic.rows(PatientQuestion)
    assert (q.answered_by, q.answered_name) == (DOC, "田中") and q.answered_at is not None
    [row] = await clinic.rows(AuditEntry)
    assert (row.action, row.detail) == ("reply", q.id)
    # answered: the button says so, /reply too, and nothing goes to the admins a day later
    await clinic.press(DOC, t("button.reply_question"))
    assert clinic.standin.callback_answers[-1][1] == t("question.already_answered", name="田中")
    assert (await clinic.text(DOC, f"/reply {q.id} もう一度"))[-1].body == \
        t("question.already_answered", name="田中")
    await clinic.travel(hours=25)
    assert not any("未返信" in (m.body or "") for m in clinic.standin.messages(ADMIN))


async def test_symptom_words_in_a_question_open_the_check_in_at_once(clinic):
    await join(clinic, DOC, "田中")
    await enrol(clinic)
    sent = await ask(clinic, "昨日から足がしびれています。運動してもいいですか？")
    body = sent[-1].body
    assert t("checkin.heard") in body and t("question.also_sent") in body
    assert t("flag.numbness_weakness") in sent[-1].button_texts  # the check-in, now
    await clinic.travel(seconds=5)
    assert "足がしびれています" in clinic.standin.last_message(DOC).body  # and the question is passed on


async def test_outside_the_clinics_hours_the_patient_is_told_when(standin, database_url, coach_start):
    coach = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN],
                        clinic_open_hours="mon-fri 09:00-18:00, sat 09:00-13:00").start()
    try:
        await enrol(coach)  # Tuesday 08:00 in Tokyo: before opening
        sent = await ask(coach)
        assert sent[-1].body == t("question.sent_closed", when="12/1(火) 09:00")
        await coach.travel(hours=2)  # 10:00: open
        sent = await ask(coach, "もう一つ質問です")
        assert sent[-1].body == t("question.sent")
    finally:
        await coach.stop()


async def test_an_unanswered_question_goes_to_the_admins_and_tops_the_weekly_summary(clinic):
    await join(clinic, DOC, "田中")
    await enrol(clinic)
    await ask(clinic)
    await clinic.travel(hours=23)
    assert not any("未返信" in (m.body or "") for m in clinic.standin.messages(ADMIN))
    await clinic.travel(hours=1)
    again = clinic.standin.last_message(ADMIN)
    assert again.body.startswith(t("question.overdue", hours=24)) and QUESTION in again.body
    # the admin answers it from there
    await clinic.press(ADMIN, t("button.reply_question"))
    # ... but first the weekly summary (Monday 12/7 08:00): the question on top, before the patients
    await clinic.travel_to(datetime(2026, 12, 6, 23, 0, tzinfo=UTC))
    summary = [m.body or "" for m in clinic.standin.messages(DOC) if "【" in (m.body or "")]
    top = next(i for i, b in enumerate(summary) if b.startswith("【患者さんからの質問・未返信24時間以上】1件"))
    assert QUESTION[:20] in summary[top] and summary[top + 1].startswith("【週次サマリー】")


async def test_an_unassigned_patients_question_goes_to_the_staff_chat_and_anyone_there_answers(
        standin, database_url, coach_start):
    standin.add_group(STAFF, "supergroup")
    coach = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN], staff_chat_id=STAFF).start()
    try:
        await enrol(coach)  # no clinician
        await ask(coach)
        await coach.travel(seconds=5)
        relay = coach.standin.last_message(STAFF)
        assert QUESTION in relay.body
        await coach.press_raw(RECEPTION, relay.buttons[0][0][1], relay.message_id, chat=STAFF)
        assert coach.standin.callback_answers[-1][1] == t("clinic.sent_privately")
        assert QUESTION in coach.last(RECEPTION)  # the prompt, privately
        await coach.text(RECEPTION, "受付です。明日お電話します。", first_name="受付")
        await coach.travel(seconds=5)
        assert coach.last(USER) == t("question.answer", name="受付", question=QUESTION,
                                     answer="受付です。明日お電話します。")
    finally:
        await coach.stop()
