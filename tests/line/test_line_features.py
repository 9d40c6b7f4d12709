"""What the other issues added, on LINE too: a question relayed to the clinician and the reply back, the weekly
report with its chart (hosted for LINE), and 「やり方を見る」 bringing an exercise's picture."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from bot.i18n import t
from bot.storage.models import Patient
from tests.helpers import day, enrol
from tests.line.conftest import ADMIN

QUESTION = "スクワットは毎日やっても大丈夫ですか？"


async def test_a_question_from_line_reaches_the_clinic_and_the_reply_comes_back(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.text(patient, "/ask")
    assert line_coach.last(patient) == t("question.ask", nickname="はなこ")
    sent = await line_coach.text(patient, QUESTION)
    assert sent[0].text == t("question.sent") and sent[0].via == "reply"
    await line_coach.travel(seconds=5)
    relay = line_coach.standin.last_message(ADMIN)  # no clinician assigned: the admins
    assert QUESTION in relay.body
    await line_coach.press(ADMIN, t("button.reply_question"))
    await line_coach.text(ADMIN, "はい、痛みが目安の範囲なら毎日で大丈夫です。")
    await line_coach.travel(seconds=5)
    answer = line.messages(patient)[-1]
    assert answer.via == "push" and answer.text.startswith(t("question.answer", name=t("clinic.unnamed"),
                                                           question=QUESTION, answer="x")[:8])
    assert "毎日で大丈夫です" in answer.text


async def test_the_weekly_report_and_its_chart_reach_a_line_patient(standin, line, database_url, patient):
    from tests.harness import Coach
    from tests.helpers import START

    coach = await Coach(standin, database_url, START, line=line, admin_telegram_ids=[ADMIN],
                        outcomes_enabled=True).start()
    try:
        await coach.follow(patient)
        await coach.text(patient, "/trial")
        await coach.press(patient, "同意して始める")
        from tests.helpers import answer_signup

        await answer_signup(coach, patient)
        await coach.text(patient, "はなこ")
        await coach.press(patient, "この内容で始める")
        await coach.press(patient, "5")  # the baseline measures
        await coach.press(patient, "特にありません")
        await coach.press(patient, "2")
        for _ in range(6):
            await day(coach, 2, 2, 1, 1, user=patient)
        seen = len(line.messages(patient))
        await coach.travel_to(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))  # Tue 12-08 19:00 Tokyo: a week after signup
        week = line.messages(patient)[seen:]
        assert any((m.text or "").startswith("📅 はなこさんの1週間") for m in week), [m.summary() for m in week]
        [chart] = [m for m in week if m.images]
        assert chart.via == "push" and chart.card_texts == [t("progress.week.chart_caption")]
        async with aiohttp.ClientSession() as http, http.get(chart.images[0]) as resp:
            assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")
            assert resp.headers["Cache-Control"] == "private, no-store"  # a patient's chart: not cached on the way
    finally:
        await coach.stop()


async def test_how_to_brings_the_exercise_picture_on_line(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    assert await line_coach.count(Patient) == 1
    await line_coach.travel(hours=1)
    how = [label for label in line_coach.last_buttons(patient) if "やり方" in label]
    assert how, line_coach.last_buttons(patient)
    shown = await line_coach.press(patient, how[0])
    assert shown[0].via == "reply" and shown[0].card_texts[0].startswith("【")  # the picture above how to do it
    assert shown[0].images[0].startswith(f"http://127.0.0.1:{line_coach.settings.line_port}/line/media/p/")


async def test_after_how_to_the_day_s_choices_come_again(line_coach, patient):
    """On LINE the tapped quick replies are gone: the picture brings the reminder's choices back."""
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.travel(hours=1)
    how = next(label for label in line_coach.last_buttons(patient) if "やり方" in label)
    await line_coach.press(patient, how)
    assert line_coach.last_buttons(patient)[:3] == [t("button.start_now"), t("button.later", minutes=30),
                                                    t("button.skip")]
    started = await line_coach.press(patient, t("button.start_now"))
    assert started and "いまの痛み" in "".join(m.text or "" for m in started)


async def test_the_trial_s_end_question_can_be_answered_by_typing(line_coach, line, patient):
    """The end-of-trial question comes at the exercise time with that day's reminder; on LINE the reminder's
    quick replies replace its own, so 「続ける」 typed answers it (「終了」 asks first, as the button does)."""
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.travel(days=13)
    asked = [m for m in line.messages(patient) if "体験期間は残り" in (m.text or "")]
    assert asked and "「続ける」「終了」と送って" in asked[-1].text
    ending = await line_coach.text(patient, "終了")
    assert t("button.end_confirm") in line_coach.last_buttons(patient), ending
    assert (await line_coach.rows(Patient))[0].status == "trial"  # nothing changed before the confirmation
    answer = await line_coach.text(patient, "続けます")
    assert answer[-1].text == t("trial.continued", nickname="はなこ")
    assert (await line_coach.rows(Patient))[0].status == "active"
    again = await line_coach.text(patient, "続ける")  # answered already: read as a rating, kindly
    assert again and again[-1].text != t("trial.continued", nickname="はなこ")
