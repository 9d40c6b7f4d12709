"""Ending the program (near the trial's end, or from /settings), asked for confirmation first; what an ended
patient is told (/start, /today, /settings agree, nothing more is sent); re-joining for a new trial period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.i18n import has, t
from bot.storage.models import ExerciseSession, Outbox, Patient, Prompt
from tests.helpers import USER, enrol
from tests.helpers import advice as clinic_advice

# the question about continuing comes 2 days before the trial's end (12/15), with the 09:00 reminder
NOTICE_DAY = datetime(2026, 12, 13, 0, 0, tzinfo=UTC)


def msg(key: str, **params: object) -> str:
    assert has(key), f"{key} missing from the catalogue"
    return t(key, **params)


async def status(coach) -> str:
    [p] = await coach.rows(Patient)
    return p.status


async def test_ending_at_the_trial_question_asks_first_then_closes_every_question(coach):
    await enrol(coach)
    await coach.travel_to(NOTICE_DAY)
    assert msg("trial.notice", nickname="はなこ", days=2) in [m.body for m in coach.standin.messages(USER)]
    await coach.text(USER, "/today")
    await coach.press(USER, msg("button.start_now"))  # today's session runs while the patient decides
    await coach.press(USER, "2")  # before: the during question is now due in 10 minutes

    [confirm] = await coach.press(USER, msg("button.end_trial"))
    assert confirm.body == msg("end.confirm", nickname="はなこ")
    assert confirm.button_texts == [msg("button.end_confirm"), msg("button.keep_going")]
    assert await status(coach) == "trial"  # nothing changes before the confirmation

    [ended] = await coach.press(USER, msg("button.end_confirm"))
    assert ended.body == msg("trial.ended_by_patient", nickname="はなこ")
    assert await status(coach) == "ended"

    # the bug: the during question still came, and a typed rating was still recorded
    sent = len(coach.standin.messages(USER))
    await coach.travel(days=3)
    assert coach.standin.messages(USER)[sent:] == []
    [reply] = await coach.text(USER, "3")
    assert reply.body == msg("common.no_question")
    assert await coach.count(ExerciseSession, ExerciseSession.during.is_not(None)) == 0
    assert await coach.count(Prompt, Prompt.answered_at.is_(None), Prompt.closed.is_(False)) == 0
    assert await coach.count(Outbox, Outbox.state == "pending", Outbox.patient_id.is_not(None)) == 0


async def test_keep_going_at_the_confirmation_continues(coach):
    await enrol(coach)
    await coach.travel_to(NOTICE_DAY)
    await coach.press(USER, msg("button.end_trial"))
    [reply] = await coach.press(USER, msg("button.keep_going"))
    assert reply.body == msg("trial.continued", nickname="はなこ")
    assert await status(coach) == "active"
    sent = len(coach.standin.messages(USER))
    for _ in range(3):  # past the trial's end: still coached
        await coach.travel(days=1)
    assert await status(coach) == "active"
    reminder = msg("reminder.text", nickname="はなこ").split("\n")[0]
    assert sum(reminder in (m.body or "") for m in coach.standin.messages(USER)[sent:]) == 3


async def test_after_the_end_start_today_and_settings_say_the_same(coach):
    await enrol(coach)
    await coach.text(USER, "/settings")
    [confirm] = await coach.press(USER, msg("button.end_program"))
    assert confirm.body == msg("end.confirm", nickname="はなこ")
    [kept] = await coach.press(USER, msg("button.keep_going"))
    assert kept.body == msg("end.kept") and await status(coach) == "trial"
    [old_menu] = await coach.text(USER, "/settings")
    await coach.press(USER, msg("button.end_program"))
    await coach.press(USER, msg("button.end_confirm"))
    assert await status(coach) == "ended"

    ended = msg("status.ended", nickname="はなこ")
    for command in ("/start", "/today", "/settings"):
        [reply] = await coach.text(USER, command)
        assert reply.body == ended, command
        assert reply.button_texts == [msg("button.rejoin")], command
        assert "09:00" not in reply.body and msg("settings.running") not in reply.body
    # no resume promise: an old /settings menu's buttons are closed
    await coach.press_raw(USER, "st:resume", old_menu.message_id)
    await coach.press_raw(USER, "st:time:0700", old_menu.message_id)
    assert coach.standin.callback_answers[-1][1] == msg("common.closed")
    [p] = await coach.rows(Patient)
    assert (p.status, p.exercise_time) == ("ended", "09:00")
    sent = len(coach.standin.messages(USER))
    await coach.travel(days=8)
    assert coach.standin.messages(USER)[sent:] == []


async def test_rejoin_after_the_trial_ran_out_keeps_the_history(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    await coach.press(USER, msg("button.start_now"))
    await coach.press(USER, "2")
    await coach.travel_to(datetime(2026, 12, 15, 14, 0, tzinfo=UTC))  # 23:00 Tokyo on the last day
    ended = coach.last(USER)
    assert ended.startswith(msg("trial.ended", nickname="はなこ"))
    assert msg("trial.invite", contact=msg("clinic.contact", clinic=msg("clinic.unset.name"),
                                           phone=msg("clinic.unset.phone"), hours=msg("clinic.unset.hours"))) in ended
    assert await status(coach) == "ended"

    [check] = await coach.text(USER, "/trial")
    assert check.button_texts == [msg("button.none_apply"), msg("button.some_apply")]
    [advice] = await coach.press(USER, msg("button.some_apply"))
    assert advice.body == clinic_advice(coach, "rejoin.red_flag") and await status(coach) == "ended"

    await coach.text(USER, "/start")
    [check] = await coach.press(USER, msg("button.rejoin"))
    [welcome] = await coach.press(USER, msg("button.none_apply"))
    assert welcome.body.startswith(msg("rejoin.welcome", nickname="はなこ", end="12/29", time="09:00", per_week=5))
    [p] = await coach.rows(Patient)
    assert (p.status, p.trial_ends_on.isoformat()) == ("trial", "2026-12-29")
    assert await coach.count(ExerciseSession, ExerciseSession.before == 2) == 1  # history kept
    await coach.travel_to(datetime(2026, 12, 16, 0, 0, tzinfo=UTC))  # 09:00 Tokyo
    assert coach.last(USER).startswith(msg("reminder.text", nickname="はなこ").split("\n")[0])
    # the new period has its own question near its end and its own end
    [notice] = await coach.rows(Outbox, Outbox.kind == "trial_notice", Outbox.state == "pending")
    assert notice.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 27, 0, 0, tzinfo=UTC)
    # re-joining twice changes nothing
    await coach.press_raw(USER, "rj:ok", check.message_id)
    assert coach.standin.callback_answers[-1][1] == msg("common.closed")


async def test_a_deleted_patients_id_is_never_given_to_the_next(coach):
    await enrol(coach)
    [first] = await coach.rows(Patient)
    await coach.text(USER, "/delete")
    await coach.press(USER, msg("button.delete_yes"))
    assert await coach.count(Patient) == 0
    await enrol(coach, USER + 1, nickname="たろう")
    [second] = await coach.rows(Patient)
    assert second.nickname == "たろう" and second.id != first.id


async def test_delete_withdraws_a_reminder_already_prepared_for_sending(coach):
    await enrol(coach)
    await enrol(coach, USER + 1, nickname="たろう")
    await coach.runner.run_until_idle()  # the staff notices about the signups
    coach.clock.travel(timedelta(hours=1))  # 09:00: both reminders due
    claimed, jobs = await coach.runner._claim_and_prepare()  # claimed and prepared, not yet sent
    assert claimed == 2 and len(jobs) == 2
    await coach.text(USER, "/delete")
    await coach.press(USER, msg("button.delete_yes"))
    sent = len(coach.standin.messages(USER))
    await coach.runner._send_all(jobs, asyncio.Semaphore(4), asyncio.Event())
    assert coach.standin.messages(USER)[sent:] == []  # withdrawn
    assert msg("reminder.text", nickname="たろう").split("\n")[0] in coach.last(USER + 1)  # the other goes
    assert await coach.count(Outbox, Outbox.patient_id.is_not(None), Outbox.kind == "reminder",
                             Outbox.state == "sent") == 1
