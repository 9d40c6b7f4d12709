"""The clinic's method over several days, through Telegram: progress one element after two good
sessions, step back when pain during exceeds 3, the 24-hour recheck, a severe-pain stop."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.models import Decision, ExerciseSession, Outbox, Patient
from rules import ELEMENT_ORDER, Element, load_program
from tests.helpers import USER, day, enrol


async def levels(coach) -> tuple[int, int, int, int]:
    [p] = await coach.rows(Patient)
    return p.rom, p.reps, p.load, p.speed


async def test_two_good_sessions_raise_exactly_one_element(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 2)
    assert await levels(coach) == (1, 1, 1, 1)
    await day(coach, 2, 3, 2, 1)
    assert await levels(coach) == (2, 1, 1, 1)  # range of motion first
    text = coach.standin.messages(USER)[-1].body
    assert "「動かす範囲」を一段階だけ上げます" in text and "次回の運動はこちらです" in text
    # what changed, exercise by exercise (each knee exercise that has a range), and nothing else
    one = {e: 1 for e in ELEMENT_ORDER}
    lines = [f"・{c.exercise.name}：{c.name} {c.before} → {c.after}"
             for c in load_program("knee").changes(one, {**one, Element.ROM: 2})]
    assert lines and all(line in text for line in lines)
    assert text.count("→") == len(lines)
    assert "・脚上げ：動かす範囲 かかとを床から少し浮かせる → かかとをこぶし1つ分上げる" in text
    assert "タオルつぶし" not in text.split("次回の運動はこちらです")[0]  # a squeeze has no range: unchanged
    [d] = await coach.rows(Decision, Decision.action == "progress")
    assert (d.element, d.levels_before["rom"], d.levels_after["rom"]) == ("rom", 1, 2)
    # the next raise needs two fresh good sessions at the new dose
    await day(coach, 2, 2, 1, 2)
    assert await levels(coach) == (2, 1, 1, 1)
    await day(coach, 2, 2, 1, 2)
    assert await levels(coach) == (2, 2, 1, 1)  # then repetitions, in every exercise that has them
    text = coach.standin.messages(USER)[-1].body
    assert "「回数」を一段階だけ上げます" in text
    assert "・いすからの立ち上がり：回数 8回 → 10回" in text and "・ウォーキング：1日の時間 10分 → 12分" in text


async def test_pain_during_over_three_steps_back_the_last_raise_at_once(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 2)
    await day(coach, 2, 2, 1, 2)
    assert await levels(coach) == (2, 1, 1, 1)
    await day(coach, 2, 5, 3, 2)
    assert await levels(coach) == (1, 1, 1, 1)
    during_reply = [m.body for m in coach.standin.messages(USER) if "目安（3）を超えました" in (m.body or "")]
    assert len(during_reply) == 1 and "「動かす範囲」を一段階下げます" in during_reply[0]
    # stepped back once for that session, not again at the next-morning answer
    assert await coach.count(Decision, Decision.action == "step_back") == 1


async def test_step_back_at_level_one_alerts_the_clinic(coach):
    await enrol(coach)
    await day(coach, 2, 5, 3, 2)
    assert await levels(coach) == (1, 1, 1, 1)
    bodies = [m.body or "" for m in coach.standin.messages(USER)]
    [first] = [b for b in bodies if "運動量はもういちばん軽い量です" in b]  # what happens next, once
    assert "運動前 2・運動中 5" in first and "休みましょう" in first and "小さく動かして" in first
    [alert] = await coach.rows(Outbox, Outbox.kind == "alert")
    assert alert.payload["event"] == "step_back_at_minimum"
    # the next day at the minimum again: a short reminder of the plan, and no second alert
    await day(coach, 2, 5, 3, 2)
    bodies = [m.body or "" for m in coach.standin.messages(USER)]
    assert len([b for b in bodies if "運動量はもういちばん軽い量です" in b]) == 1
    assert any("いちばん軽い量のままです" in b for b in bodies)
    assert await coach.count(Outbox, Outbox.kind == "alert") == 1


async def test_next_morning_rise_schedules_a_24h_recheck_that_decides(coach):
    await enrol(coach)
    await day(coach, 2, 2, 1, 2)
    await day(coach, 2, 2, 1, 2)
    assert await levels(coach) == (2, 1, 1, 1)
    await day(coach, 2, 3, 2, 4)  # next morning above the reference (2): not yet a step back
    assert "今朝は運動前（2）より強め（4）です" in coach.last(USER)
    assert "次の運動の前に、もう一度痛みを伺います" in coach.last(USER)
    [recheck] = await coach.rows(Outbox, Outbox.kind == "recheck")
    [session] = await coach.rows(ExerciseSession, ExerciseSession.id == recheck.session_id)
    # before the next session's 09:00 reminder, not with it (24 h after the start would be 09:00)
    assert recheck.due_at == session.started_at + timedelta(hours=24) - timedelta(minutes=30)
    assert await levels(coach) == (2, 1, 1, 1)
    await coach.travel(minutes=30)  # 08:30: the recheck alone
    assert "もうすぐ24時間です" in coach.last(USER) and "運動の時間です" not in coach.last(USER)
    await coach.press(USER, "3")
    # still above the reference 24 h later: the dose was too much -> the last raise is undone
    assert await levels(coach) == (1, 1, 1, 1)
    [step] = await coach.rows(Decision, Decision.stage == "recheck")
    assert (step.action, step.element, step.reasons[0]) == ("step_back", "rom", "recheck_above_reference")
    assert "24時間たっても痛みが元に戻っていない（運動前 2、いま 3）" in coach.last(USER)
    await coach.travel(minutes=30)  # 09:00: then the reminder, at the lowered dose
    assert "運動の時間です" in coach.last(USER)


async def test_severe_pain_stops_the_session_and_alerts(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, "今から始める")
    await coach.press(USER, "2")
    await coach.press(USER, "1つ目が終わった")
    await coach.press(USER, "8")
    assert "今日の運動はここで中止して休んでください" in coach.last(USER)
    [session] = await coach.rows(ExerciseSession)
    assert session.status == "stopped"
    [alert] = await coach.rows(Outbox, Outbox.kind == "alert")
    assert alert.payload["event"] == "severe_pain"
    await coach.travel(hours=2)  # no after-prompt for a stopped session
    assert "直後の痛み" not in coach.last(USER)
