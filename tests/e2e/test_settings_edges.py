"""Edges between /settings and the daily questions."""

from __future__ import annotations

from bot.storage.models import ExerciseSession, Outbox, Patient
from tests.helpers import USER, enrol


async def test_a_question_after_an_unfinished_time_change_takes_the_typed_number(coach):
    await enrol(coach)
    await coach.text(USER, "/settings")
    await coach.press(USER, "運動の時間を変える")  # ...and never answers
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")
    await coach.text(USER, "3")
    [session] = await coach.rows(ExerciseSession)
    [p] = await coach.rows(Patient)
    assert session.before == 3 and p.exercise_time == "09:00" and p.awaiting is None


async def test_changing_the_morning_time_moves_the_pending_morning_question(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")
    for answer in ("2", "1つ目が終わった", "2", "全部終わった", "1"):
        await coach.press(USER, answer)
    [row] = await coach.rows(Outbox, Outbox.kind == "morning_prompt")
    assert row.due_at.isoformat().startswith("2026-12-01T22:00")  # 07:00 Tokyo
    await coach.text(USER, "/settings")
    await coach.press(USER, "朝の確認の時間を変える")
    await coach.text(USER, "8:30")
    [row] = await coach.rows(Outbox, Outbox.kind == "morning_prompt")
    assert row.due_at.isoformat().startswith("2026-12-01T23:30")  # 08:30 Tokyo, same morning


async def test_an_error_on_a_button_still_answers_the_press(coach, monkeypatch):
    import bot.handlers.session as session_handlers

    await enrol(coach)
    await coach.travel(hours=1)

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(session_handlers.coaching, "start_session", broken)
    answers = len(coach.standin.callback_answers)
    await coach.press(USER, "今から始める")
    assert len(coach.standin.callback_answers) == answers + 1  # no endless spinner
    assert "うまく処理できませんでした" in coach.last(USER)


async def test_an_old_unanswered_question_no_longer_takes_answers(coach):
    """A next-morning question left unanswered: two days later a typed 3 or a tap on it stores nothing."""
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")
    for answer in ("2", "1つ目が終わった", "2", "全部終わった", "1"):
        await coach.press(USER, answer)
    await coach.travel(hours=22)  # 07:00 next morning: the question arrives; nobody answers
    question = coach.find(USER, button_text="⚠ 気になる症状がある")
    data = dict(b for row in question.buttons for b in row)
    await coach.travel(days=1, hours=2)  # past the 18 hours a rating answers its question
    await coach.text(USER, "3")
    assert "いまお答えいただく質問はありません" in coach.last(USER)
    await coach.press_raw(USER, data["3"], question.message_id)
    assert coach.standin.callback_answers[-1][1].startswith("この質問はすでに締め切られています")
    sessions = await coach.rows(ExerciseSession, ExerciseSession.next_morning.is_not(None))
    assert sessions == []
