"""A whole patient journey over HTTP: signup -> reminder -> four ratings -> next-morning reply."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import Decision, ExerciseSession, Outbox, Patient, Signup
from tests.helpers import USER, enrol


async def test_signup_stores_nothing_before_consent_and_enrols_once(coach):
    await coach.text(USER, "/trial")
    assert await coach.count(Signup) == 0 and await coach.count(Patient) == 0
    await coach.press(USER, "同意しない")
    assert "何も保存していません" in coach.last(USER)
    assert await coach.count(Signup) == 0

    await enrol(coach)
    [p] = await coach.rows(Patient)
    assert (p.condition, p.usual_pain, p.exercise_time, p.morning_time, p.nickname) == \
        ("knee", 3, "09:00", "07:00", "はなこ")
    assert "ようこそ" in coach.standin.messages(USER)[-1].body
    # the first reminder is a due row for 09:00 Tokyo today (00:00 UTC)
    [reminder] = await coach.rows(Outbox, Outbox.kind == "reminder")
    assert reminder.due_at.isoformat().startswith("2026-12-01T00:00")

    await coach.text(USER, "/trial")
    assert "登録済み" in coach.last(USER)
    assert await coach.count(Patient) == 1


async def test_whole_day_and_next_morning(coach):
    await enrol(coach)
    # 09:00: the reminder arrives, once
    assert await coach.travel(hours=1) >= 1
    reminder = coach.standin.last_message(USER)
    assert "運動の時間です" in reminder.body and "いすからの立ち上がり" in reminder.body
    assert await coach.travel(minutes=1) == 0

    await coach.press(USER, "今から始める")
    assert "始める前" in coach.last(USER)
    await coach.press(USER, "2")  # before
    assert "1つ目の運動が終わったら" in coach.last(USER)
    await coach.press(USER, "1つ目が終わった")
    await coach.press(USER, "3")  # during: at the limit, fine
    assert "このまま続けましょう" in coach.last(USER)
    await coach.press(USER, "全部終わった")
    await coach.text(USER, "2/10")  # after, typed
    assert "明日の朝 07:00" in coach.last(USER)

    [session] = await coach.rows(ExerciseSession)
    assert (session.before, session.during, session.after, session.status) == (2, 3, 2, "done")

    # the during/after fallbacks were cancelled: the patient already answered
    await coach.travel(hours=2)
    assert "運動中の痛み" not in coach.last(USER)

    # next morning 07:00 Tokyo = 22:00 UTC
    await coach.travel_to(session.planned_at.replace(hour=22))
    assert "おはようございます" in coach.last(USER)
    await coach.press(USER, "1")
    [session] = await coach.rows(ExerciseSession)
    assert session.next_morning == 1
    decisions = await coach.rows(Decision)
    assert [d.stage for d in decisions] == ["before", "during", "after", "next_morning"]
    # one good session is not enough to progress (2 consecutive)
    assert decisions[-1].action == "hold" and "もう一度" in coach.last(USER)


async def test_double_tap_stores_one_answer_and_stale_press_is_closed(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")
    question = coach.find(USER, button_text="5")
    data = dict(b for row in question.buttons for b in row)
    first = await coach.press(USER, "5", message_id=question.message_id)
    second = await coach.press_raw(USER, data["2"], question.message_id)  # the second tap of a double tap
    assert len(first) == 1 and second == []
    from bot.i18n import t

    assert coach.standin.callback_answers[-1][1] == t("common.closed")
    [session] = await coach.rows(ExerciseSession)
    assert session.before == 5
    async with coach.rt.db.session() as s:
        assert (await s.scalar(select(Decision.stage).where(Decision.stage == "before"))) == "before"
    assert await coach.count(Decision) == 1
