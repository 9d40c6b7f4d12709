"""Reminders: fired once at the chosen time, repeated once, then recorded as missed; snooze and skip;
nothing lost or repeated across a restart; the written catch-up policy after downtime."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.models import ExerciseSession, Outbox
from tests.harness import Coach
from tests.helpers import USER, enrol


def reminders(coach) -> list[str]:
    """Reminder messages: the ones offering 今から始める / 30分後に / 今日は休む."""
    return [m.body for m in coach.standin.messages(USER)
            if any(text == "30分後に" for row in m.buttons for text, _ in row) or "あとで" in (m.body or "")]


async def test_reminder_fires_once_is_repeated_once_then_missed(coach):
    await enrol(coach)
    await coach.travel(minutes=59)
    assert reminders(coach) == []
    await coach.travel(minutes=1)  # 09:00 Tokyo
    assert len(reminders(coach)) == 1
    await coach.travel(minutes=30)
    assert len(reminders(coach)) == 1
    await coach.travel(minutes=30)  # one repeat after 60 minutes
    assert len(reminders(coach)) == 2 and "もう一度" in reminders(coach)[-1]
    await coach.travel(hours=1)
    await coach.travel(hours=5)
    assert len(reminders(coach)) == 2  # never nagged further
    [session] = await coach.rows(ExerciseSession)
    assert session.status == "missed"
    # the old buttons are closed now
    await coach.press(USER, "今から始める")
    assert coach.standin.callback_answers[-1][1].startswith("この質問はすでに締め切られています")
    # and tomorrow's reminder comes at 09:00 again (now 16:00)
    await coach.travel(hours=16, minutes=59)
    assert len(reminders(coach)) == 2
    await coach.travel(minutes=1)
    assert len(reminders(coach)) == 3


async def test_snooze_and_skip(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, "30分後に")
    assert "30分後" in coach.last(USER)
    await coach.travel(minutes=29)
    assert len(reminders(coach)) == 1
    await coach.travel(minutes=1)
    assert "時間になりました" in coach.last(USER)
    await coach.travel(minutes=40)  # the original 60-minute repeat was replaced by the snooze
    assert "もう一度お知らせします" not in coach.last(USER)
    await coach.press(USER, "今日は休む")
    [session] = await coach.rows(ExerciseSession)
    assert session.status == "skipped"
    await coach.travel(hours=3)
    assert "運動の時間" not in coach.last(USER) or "時間になりました" in coach.last(USER)
    assert await coach.count(Outbox, Outbox.kind == "reminder_expire", Outbox.state == "pending") == 0


async def test_restart_loses_and_repeats_nothing(standin, database_url, coach_start):
    first = await Coach(standin, database_url, coach_start).start()
    await enrol(first)
    await first.travel(hours=1)
    assert len(reminders(first)) == 1
    clock_now = first.clock.now()
    await first.stop()

    # a new process on the same database, 30 minutes later
    second = await Coach(standin, database_url, clock_now + timedelta(minutes=30)).start()
    try:
        assert await second.runner.run_until_idle() == 0
        assert len(reminders(second)) == 1
        await second.travel(minutes=30)
        assert len(reminders(second)) == 2  # the repeat, exactly once
        await second.press(USER, "今から始める")
        await second.press(USER, "2")
        [session] = await second.rows(ExerciseSession)
        assert (session.status, session.before) == ("started", 2)
    finally:
        await second.stop()


async def test_crash_between_claim_and_send_delivers_once_after_the_lease(standin, database_url, coach_start):
    """A process that claimed a due row and died: the lease runs out and another delivers it, once."""
    from bot.storage import outbox

    first = await Coach(standin, database_url, coach_start).start()
    await enrol(first)
    await first.runner.run_until_idle()  # the staff notice about the signup
    first.clock.travel(timedelta(hours=1))
    async with first.rt.db.session() as s:
        claimed = await outbox.claim_due(s, now=first.clock.now(), worker="dead-process", limit=10,
                                         lease=timedelta(seconds=120))
    assert [r.kind for r in claimed] == ["reminder"]
    now = first.clock.now()
    await first.stop()

    second = await Coach(standin, database_url, now).start()
    try:
        assert await second.runner.run_until_idle() == 0  # still leased by the dead process
        assert reminders(second) == []
        await second.travel(minutes=3)
        assert len(reminders(second)) == 1
        await second.travel(minutes=3)
        assert len(reminders(second)) == 1
    finally:
        await second.stop()


async def test_downtime_catch_up_policy(coach):
    """Down from 08:00 to 13:00: the 09:00 reminder is too old to be useful (3 h limit): recorded as
    missed, not sent; the next day's reminder is still planned and sent."""
    await enrol(coach)
    coach.clock.travel(timedelta(hours=5))
    await coach.runner.run_until_idle()
    assert reminders(coach) == []
    [row] = await coach.rows(Outbox, Outbox.kind == "reminder", Outbox.state == "missed")
    assert row.payload["day"] == "2026-12-01"
    await coach.travel(hours=20)  # 09:00 next day
    assert len(reminders(coach)) == 1


async def test_blocked_patient_is_marked_unreachable_and_resumes_when_writing_again(coach):
    from bot.storage.models import Patient

    await enrol(coach)
    coach.standin.block(USER)
    await coach.travel(hours=1)
    [p] = await coach.rows(Patient)
    assert p.unreachable
    assert await coach.count(Outbox, Outbox.kind == "reminder", Outbox.state == "pending") == 0
    await coach.travel(days=1)
    assert reminders(coach) == []
    coach.standin.unblock(USER)
    await coach.text(USER, "/today")
    [p] = await coach.rows(Patient)
    assert not p.unreachable
    assert await coach.count(Outbox, Outbox.kind == "reminder", Outbox.state == "pending") == 1
