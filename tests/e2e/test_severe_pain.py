"""Severe pain is followed up (issue 8 §2, §3), through Telegram: a stop with a step back and a question the
next morning, then a pause if it stays high; a severe next morning after an ordinary session; too painful to
exercise two days in a row; usual pain 6 starts at level 1 with progression held. docs/clinical.md."""

from __future__ import annotations

import pytest

from bot.storage.models import Decision, ExerciseSession, Outbox, Patient
from tests.harness import Coach
from tests.helpers import START, USER, day, enrol

ADMIN = 9001  # no clinician: alerts go to the admins
PHONE = "03-1234-5678"


@pytest.fixture
async def coach(standin, database_url):
    c = await Coach(standin, database_url, START, admin_telegram_ids=[ADMIN], clinic_phone=PHONE).start()
    yield c
    await c.stop()


async def levels(coach) -> tuple[int, int, int, int]:
    [p] = await coach.rows(Patient)
    return p.rom, p.reps, p.load, p.speed


async def alert_events(coach) -> list[str]:
    rows = sorted(await coach.rows(Outbox, Outbox.kind == "alert"), key=lambda r: r.id)
    return [r.payload["event"] for r in rows]


def bodies(coach, user: int = USER) -> list[str]:
    return [m.body or "" for m in coach.standin.messages(user)]


async def start_and_rate(coach, before: int, during: int | None = None) -> None:
    """From 08:00: the 09:00 reminder, 今から始める, the before rating (and the during rating)."""
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")
    await coach.press(USER, str(before))
    if during is not None:
        await coach.press(USER, "1つ目が終わった")
        await coach.press(USER, str(during))


async def test_severe_pain_during_is_followed_up_the_next_morning_and_pauses_when_it_stays_high(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 2)
    await day(coach, 2, 3, 2, 1)
    assert await levels(coach) == (2, 1, 1, 1)  # range of motion raised
    await start_and_rate(coach, 2, 8)
    stop = coach.last(USER)
    assert "痛みが強い（8）ので、今日の運動はここで中止して休んでください" in stop
    assert "「動かす範囲」を一段階下げます" in stop and "明日の朝、痛みを伺います" in stop
    assert await levels(coach) == (1, 1, 1, 1)  # the element raised last is stepped back
    assert await alert_events(coach) == ["severe_pain"]
    [session] = await coach.rows(ExerciseSession, ExerciseSession.during == 8)
    assert session.status == "stopped"

    await coach.travel(hours=22)  # 07:00 the next morning: asked, although the session stopped
    assert "昨日は運動お疲れさまでした" in coach.last(USER)
    await coach.press(USER, "7")
    paused = coach.last(USER)
    assert "いまの痛みは 7 で、強い痛みが続いています（運動前 2・運動中 8・翌朝 7）" in paused
    assert f"（電話 {PHONE}、" in paused and "にお電話でご相談ください" in paused
    [p] = await coach.rows(Patient)
    assert p.paused
    assert await alert_events(coach) == ["severe_pain", "severe_persists"]
    await coach.travel(minutes=1)  # the alert is delivered
    [alert] = [b for b in bodies(coach, ADMIN) if "翌朝も続いたため、プログラムを一時停止しました" in b]
    assert "痛み（0〜10）：運動前 2・運動中 8・翌朝 7" in alert  # the numbers, for the clinician too
    sent = len(coach.standin.messages(USER))
    await coach.travel(hours=26)  # no reminder while paused
    assert len(coach.standin.messages(USER)) == sent


async def test_severe_pain_after_that_settles_by_the_next_morning_goes_on_at_the_lower_dose(coach):
    await enrol(coach, usual="４")
    await day(coach, 3, 3, 2, 3)
    await day(coach, 3, 3, 2, 3)
    assert await levels(coach) == (2, 1, 1, 1)
    await day(coach, 3, 3, 8, 5)  # 8 right after; next morning 5: below 7 and below usual (4) + 2
    texts = bodies(coach)
    assert any("痛みが強い（8）ので" in b for b in texts)
    assert "いまの痛みは 5 まで下がりました（運動前 3・運動中 3・運動直後 8・翌朝 5）" in coach.last(USER)
    [p] = await coach.rows(Patient)
    assert not p.paused and await levels(coach) == (1, 1, 1, 1)
    assert await alert_events(coach) == ["severe_pain"]
    await coach.travel(hours=1)  # 09:00: the program goes on
    assert any("運動の時間です" in b for b in bodies(coach)[-2:])


async def test_a_severe_next_morning_after_an_ordinary_session_alerts_and_is_asked_again(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 9)  # an ordinary session, then 9/10 the next morning
    reply = coach.last(USER)
    assert "少し痛みが残っています" not in reply
    assert "今朝の痛みは 9 と強めです（運動前 2）" in reply and "明日の朝、もう一度痛みを伺います" in reply
    assert await alert_events(coach) == ["severe_morning"]
    [decision] = await coach.rows(Decision, Decision.stage == "next_morning")
    assert decision.reasons[0] == "severe_morning"
    await coach.travel(hours=23)  # the next morning, 07:00: the follow-up question
    assert "昨日の朝は痛みが強かったので、もう一度伺います" in coach.last(USER)
    await coach.press(USER, "8")
    assert "強い痛みが続いています" in coach.last(USER)
    [p] = await coach.rows(Patient)
    assert p.paused
    assert await alert_events(coach) == ["severe_morning", "severe_persists"]


async def test_too_painful_before_exercise_twice_in_a_row_alerts_the_clinic(coach):
    await enrol(coach)
    await start_and_rate(coach, 8)
    first = coach.last(USER)
    assert "いまの痛みは 8 と強いので、今日は運動をお休みしましょう" in first
    assert "軽く動く" in first and "明日またお知らせします" in first
    assert "1つ目が終わった" not in str(coach.standin.last_message(USER).buttons)  # no exercise today
    assert await alert_events(coach) == []
    await coach.travel(hours=23)  # 08:00 the next day
    await start_and_rate(coach, 7)  # the normal reminder asks again
    second = coach.last(USER)
    assert "いまの痛みは 7 と強いので、今日も運動をお休みしましょう" in second and "2回続いています" in second
    assert f"（電話 {PHONE}、" in second
    assert await alert_events(coach) == ["severe_before_twice"]
    await coach.travel(minutes=1)
    assert any("運動前の痛みが強い日（7以上）が2回続き" in b for b in bodies(coach, ADMIN))
    assert await levels(coach) == (1, 1, 1, 1)


async def test_too_painful_before_exercise_day_after_day_alerts_once_until_a_good_day(coach):
    """Two such days in a row alert the clinic once; a third and fourth say so again (phone shown), no new alert;
    a day that starts below severe resets it, and the next two in a row alert again."""
    await enrol(coach)
    for before in (8, 7):
        await start_and_rate(coach, before)
        await coach.travel(hours=23)
    assert await alert_events(coach) == ["severe_before_twice"]
    for before in (9, 8):  # days 3 and 4
        await start_and_rate(coach, before)
        again = coach.last(USER)
        assert f"いまの痛みは {before} と強いので、今日も運動をお休みしましょう" in again
        assert "痛みが強い日が続いています" in again and f"（電話 {PHONE}、" in again
        await coach.travel(hours=23)
    assert await alert_events(coach) == ["severe_before_twice"]  # not daily
    await day(coach, 3, 2, 1, 2)  # a good day: starts below severe (back at 08:00 the day after)
    await start_and_rate(coach, 8)
    assert "2回続いています" not in coach.last(USER)
    await coach.travel(hours=23)
    await start_and_rate(coach, 8)
    assert "2回続いています" in coach.last(USER)
    assert await alert_events(coach) == ["severe_before_twice", "severe_before_twice"]


async def test_usual_pain_6_starts_at_level_1_with_progression_held_and_the_clinician_alerted(coach):
    await enrol(coach, usual="6")
    assert await alert_events(coach) == ["usual_pain_high"]
    await coach.travel(minutes=1)
    assert any("ふだんの痛みが6以上です" in b for b in bodies(coach, ADMIN))
    await day(coach, 6, 5, 5, 6)
    await day(coach, 6, 5, 4, 5)  # two sessions within limits (ceiling max(3, min(6, 5)) = 5)
    assert await levels(coach) == (1, 1, 1, 1)
    assert "担当スタッフが目安を決めてから運動量を上げます" in coach.last(USER)
    assert await alert_events(coach) == ["usual_pain_high"]


async def test_exercising_the_day_of_a_severe_morning_gives_one_morning_question_that_follows_it_up(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 9)  # 9/10 the next morning: asked again the following morning
    await day(coach, 3, 3, 2, None)  # that day the patient feels better and exercises; 07:00 the next morning:
    questions = [m.body for m in coach.standin.messages(USER)[-2:] if "0〜10" in (m.body or "")]
    assert len(questions) == 1 and "昨日は運動お疲れさまでした" in questions[0]  # one question, not two
    await coach.press(USER, "7")  # still high: that session's morning answer follows the severe morning up
    assert "強い痛みが続いています" in coach.last(USER)
    [p] = await coach.rows(Patient)
    assert p.paused
    assert await alert_events(coach) == ["severe_morning", "severe_persists"]
