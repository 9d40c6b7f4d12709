"""Bad, odd and hostile input: each gets a clear, kind Japanese answer and changes nothing stored.

Run on SQLite and PostgreSQL (the `coach` fixture). Expected texts come from the .po catalogue (`msg()`
checks the key exists, so a missing key cannot make both sides equal by accident).
"""

from __future__ import annotations

import json

import pytest

from bot.coaching.consent import CONSENT_VERSION
from bot.i18n import has, t
from bot.storage.models import (
    Decision,
    Erasure,
    ExerciseSession,
    Outbox,
    Patient,
    Prompt,
    RedFlagReport,
    Signup,
)
from tests.helpers import USER, enrol, press_sign

OTHER = 5002
STRANGER = 5999


def msg(key: str, **params: object) -> str:
    assert has(key), f"{key} missing from the catalogue"
    return t(key, **params)


def last_answer(coach) -> tuple[str | None, bool]:
    _, text, alert = coach.standin.callback_answers[-1]
    return text, alert


async def send_photo(coach, user: int, caption: str | None = None) -> list:
    before = len(coach.standin.messages(user))
    await coach._handled_by_bot(await coach.standin.user_sends_photo(user, caption=caption))
    return coach.standin.messages(user)[before:]


async def send_sticker(coach, user: int, emoji: str = "😀") -> list:
    before = len(coach.standin.messages(user))
    await coach._handled_by_bot(await coach.standin.user_sends_sticker(user, emoji=emoji))
    return coach.standin.messages(user)[before:]


async def snapshot(coach) -> dict[str, list]:
    """Everything stored, as comparable tuples (to assert 'nothing changed')."""
    def dump(rows):
        return sorted(json.dumps(r.model_dump(mode="json"), sort_keys=True, default=str) for r in rows)

    return {m.__name__: dump(await coach.rows(m)) for m in
            (Patient, Signup, ExerciseSession, Prompt, Decision, RedFlagReport, Outbox, Erasure)}


async def start_session(coach, user: int = USER) -> None:
    """Enrol, let the 09:00 reminder arrive and start: the 'before' rating question is open."""
    await enrol(coach, user)
    await coach.travel(hours=1)
    await coach.press(user, msg("button.start_now"))
    assert msg("ask.before").splitlines()[0] in coach.last(user)


# --- typed ratings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["11", "-1", "3.5", "abc", "😀", "2か3", "12です"])
async def test_invalid_typed_rating_is_asked_again_and_nothing_stored(coach, typed):
    await start_session(coach)
    before = await snapshot(coach)
    [reply] = await coach.text(USER, typed)
    assert reply.body.startswith(msg("rating.retry"))
    assert msg("ask.before") in reply.body
    assert "0" in reply.button_texts and "10" in reply.button_texts  # the 0-10 keyboard again
    assert await snapshot(coach) == before
    [session] = await coach.rows(ExerciseSession)
    assert (session.before, session.during, session.after) == (None, None, None)
    assert await coach.count(Decision) == 0

    [accepted] = await coach.text(USER, "３")  # full-width digit, as a Japanese IME types it
    assert msg("decision.hold.start", limit=3, before=3) in accepted.body
    [session] = await coach.rows(ExerciseSession)
    assert session.before == 3
    assert await coach.count(Decision) == 1


@pytest.mark.parametrize(("typed", "value"), [("２です", 2), ("2くらい", 2), ("たぶん3", 3), ("今は、4かな", 4)])
async def test_a_rating_typed_with_words_around_it_is_understood(coach, typed, value):
    await start_session(coach)
    [reply] = await coach.text(USER, typed)
    assert not reply.body.startswith(msg("rating.retry"))
    [session] = await coach.rows(ExerciseSession)
    assert session.before == value
    assert await coach.count(Decision) == 1


async def test_kanji_and_out_of_ten_ratings_are_accepted(coach):
    await start_session(coach)
    await coach.text(USER, "2")
    await coach.press(USER, msg("button.first_done"))
    await coach.text(USER, "三")
    [session] = await coach.rows(ExerciseSession)
    assert session.during == 3
    await coach.press(USER, msg("button.all_done"))
    await coach.text(USER, "3/10")
    [session] = await coach.rows(ExerciseSession)
    assert (session.before, session.during, session.after, session.status) == (2, 3, 3, "done")
    assert [d.stage for d in await coach.rows(Decision)] == ["before", "during", "after"]


async def test_a_number_with_no_open_question_is_not_stored(coach):
    await enrol(coach)
    before = await snapshot(coach)
    [reply] = await coach.text(USER, "3")
    assert reply.body == msg("common.no_question")
    assert await snapshot(coach) == before


# --- stickers, photos, long messages -----------------------------------------------------------------

async def test_sticker_and_photo_get_a_kind_hint_and_change_nothing(coach):
    await start_session(coach)
    before = await snapshot(coach)
    [reply] = await send_sticker(coach, USER)
    assert reply.body == msg("common.not_text")
    [reply] = await coach.sticker(USER)
    assert reply.body == msg("common.not_text")
    [reply] = await send_photo(coach, USER)
    assert reply.body == msg("common.not_text")
    [reply] = await send_photo(coach, USER, caption="3")  # a caption is not a typed answer
    assert reply.body == msg("common.not_text")
    assert await snapshot(coach) == before


async def test_very_long_message_is_refused_kindly(coach):
    await start_session(coach)
    before = await snapshot(coach)
    [reply] = await coach.text(USER, "3" + "あ" * 599)
    assert reply.body == msg("common.too_long")
    assert await snapshot(coach) == before
    # a stranger too, and nothing is created for them
    [reply] = await coach.text(STRANGER, "い" * 600)
    assert reply.body == msg("common.too_long")
    assert await snapshot(coach) == before


# --- commands in the middle of the signup ------------------------------------------------------------

async def test_commands_during_signup_hint_and_keep_the_step(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, msg("button.consent"))
    await coach.press(USER, msg("condition.knee"))
    [sign] = await coach.rows(Signup)
    assert sign.step == "pain"
    for command in ("/today", "/history"):
        [reply] = await coach.text(USER, command)
        assert reply.body == msg("common.not_enrolled")
        assert "/trial" in reply.body
        [again] = await coach.rows(Signup)
        assert (again.step, again.data) == ("pain", {"consent_version": CONSENT_VERSION, "condition": "knee"})
    assert await coach.count(Patient) == 0

    [reply] = await coach.text(USER, "/trial")  # resumes at the same question
    assert reply.body.startswith(msg("signup.resume")) and msg("signup.pain") in reply.body
    [reply] = await coach.text(USER, "３")
    assert reply.body == msg("signup.falls")  # then the fall-risk questions (buttons only)
    [sign] = await coach.rows(Signup)
    assert (sign.step, sign.data) == ("falls", {"consent_version": CONSENT_VERSION, "condition": "knee",
                                              "usual_pain": 3})


async def test_cancel_during_signup_deletes_the_signup_row(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, msg("button.consent"))
    await coach.press(USER, msg("condition.low_back"))
    assert await coach.count(Signup) == 1
    [reply] = await coach.text(USER, "/cancel")
    assert reply.body == msg("signup.cancelled")
    assert await coach.count(Signup) == 0
    [reply] = await coach.text(USER, "/cancel")
    assert reply.body == msg("common.nothing_to_cancel")
    # the old signup buttons are closed now
    assert await coach.press_raw(USER, "su:pain:3", 1) == []
    assert last_answer(coach) == (msg("common.closed"), True)
    assert await coach.count(Signup) == 0 and await coach.count(Patient) == 0


# --- stale and forged buttons -------------------------------------------------------------------------

async def test_pressing_an_answered_rating_question_again_is_closed(coach):
    await start_session(coach)
    question = coach.find(USER, button_text="4")
    data = dict(b for row in question.buttons for b in row)  # read before the press takes the buttons off
    await coach.press(USER, "4", message_id=question.message_id)
    assert question.buttons == []
    before = await snapshot(coach)
    assert await coach.press_raw(USER, data["7"], question.message_id) == []
    assert last_answer(coach) == (msg("common.closed"), True)
    assert await snapshot(coach) == before
    [session] = await coach.rows(ExerciseSession)
    assert session.before == 4


async def test_pressing_the_reminders_start_button_twice(coach):
    await enrol(coach)
    await coach.travel(hours=1)
    reminder = coach.find(USER, button_text=msg("button.start_now"))
    data = reminder.find_button(msg("button.start_now"))
    first = await coach.press(USER, msg("button.start_now"), message_id=reminder.message_id)
    assert len(first) == 1 and msg("ask.before") in first[0].body
    before = await snapshot(coach)
    assert await coach.press_raw(USER, data, reminder.message_id) == []
    assert last_answer(coach) == (msg("common.closed"), True)
    assert await snapshot(coach) == before
    assert await coach.count(Prompt, Prompt.kind == "before") == 1


@pytest.mark.parametrize("data", ["rt:999999:3", "rt:abc:1", "rt:1:11", "rt:1:-1", "rt:1", "rt::",
                                  "zz:1", "su:cond:nonsense", "su:rff:nonsense", "rm:1:explode",
                                  "nx:abc:during", "st:time:abcd", "tr:1", "rf:nonsense"])
async def test_forged_button_data_is_closed_and_stores_nothing(coach, data):
    await start_session(coach)
    await coach.text(OTHER, "/trial")
    await coach.press(OTHER, msg("button.consent"))  # OTHER is at the signup's first step
    before = await snapshot(coach)
    for user in (USER, OTHER):
        n = len(coach.standin.callback_answers)
        assert await coach.press_raw(user, data, 1) == []
        assert len(coach.standin.callback_answers) == n + 1
        assert last_answer(coach) == (msg("common.closed"), True)
    assert await snapshot(coach) == before


async def test_another_users_question_is_refused(coach):
    await start_session(coach, USER)
    await enrol(coach, OTHER)
    [prompt] = await coach.rows(Prompt, Prompt.kind == "before")
    [reminder] = await coach.rows(Prompt, Prompt.kind == "reminder")
    [a_session] = await coach.rows(ExerciseSession)
    before = await snapshot(coach)
    for data in (f"rt:{prompt.id}:3", f"rm:{reminder.id}:skip", f"nx:{a_session.id}:during"):
        assert await coach.press_raw(OTHER, data, 1) == []
        assert last_answer(coach) == (msg("common.closed"), True)
    assert await coach.press_raw(STRANGER, f"rt:{prompt.id}:3", 1) == []
    assert last_answer(coach) == (msg("common.closed"), True)
    assert await snapshot(coach) == before
    [a_session] = await coach.rows(ExerciseSession)
    assert a_session.before is None
    # A can still answer their own question
    await coach.press(USER, "3")
    [a_session] = await coach.rows(ExerciseSession)
    assert a_session.before == 3


# --- strangers, and a person after /delete -------------------------------------------------------------

async def assert_stranger(coach, user: int) -> None:
    before = await snapshot(coach)
    [reply] = await coach.text(user, "こんにちは")
    assert reply.body == msg("common.not_enrolled")
    assert reply.button_texts == [msg("button.trial")]
    for command, key in (("/today", "common.not_enrolled"), ("/history", "common.not_enrolled"),
                         ("/mydata", "mydata.nothing"), ("/settings", "common.not_enrolled"),
                         ("/symptom", "common.not_enrolled"), ("3", "common.not_enrolled")):
        [reply] = await coach.text(user, command)
        assert reply.body == msg(key), command
        assert reply.kind == "text"
    assert await snapshot(coach) == before


async def test_a_stranger_gets_the_not_enrolled_answer_and_nothing_is_created(coach):
    await assert_stranger(coach, STRANGER)
    for model in (Patient, Signup, ExerciseSession, Prompt, Decision, Outbox, RedFlagReport):
        assert await coach.count(model) == 0, model.__name__


async def test_delete_erases_everything_and_the_person_is_a_stranger_again(coach):
    await enrol(coach, OTHER)  # someone else, who must keep their data
    await start_session(coach, USER)
    await coach.press(USER, "2")
    [p] = await coach.rows(Patient, Patient.telegram_user_id == USER)
    assert await coach.count(Decision, Decision.patient_id == p.id) == 1

    [confirm] = await coach.text(USER, "/delete")
    assert confirm.body == msg("delete.confirm")
    [done] = await coach.press(USER, msg("button.delete_yes"))
    assert done.body == msg("delete.done")

    assert await coach.count(Patient, Patient.telegram_user_id == USER) == 0
    for model in (ExerciseSession, Prompt, Decision, Outbox):
        assert await coach.count(model, model.patient_id == p.id) == 0, model.__name__
    assert await coach.count(RedFlagReport, RedFlagReport.telegram_user_id == USER) == 0
    assert await coach.count(Signup) == 0
    [erasure] = await coach.rows(Erasure)
    assert erasure.count == 1
    # the other patient is untouched
    [other] = await coach.rows(Patient)
    assert other.telegram_user_id == OTHER
    assert await coach.count(Outbox, Outbox.patient_id == other.id, Outbox.state == "pending") >= 1

    await assert_stranger(coach, USER)
    # the old buttons are closed
    assert await coach.press_raw(USER, "rt:1:3", 1) == []
    assert last_answer(coach) == (msg("common.closed"), True)
    # deleting again: nothing to delete, the anonymous count is unchanged
    await coach.text(USER, "/delete")
    [reply] = await coach.press(USER, msg("button.delete_yes"))
    assert reply.body == msg("mydata.nothing")
    [erasure] = await coach.rows(Erasure)
    assert erasure.count == 1


async def test_delete_leaves_no_staff_notice_naming_the_person(coach):
    await enrol(coach, USER, nickname="やまだ")
    await coach.text(USER, "/delete")
    await coach.press(USER, msg("button.delete_yes"))
    left = [o for o in await coach.rows(Outbox)
            if str(USER) in o.dedupe_key or "やまだ" in json.dumps(o.payload, ensure_ascii=False)]
    assert left == []


async def test_delete_after_a_signup_red_flag_erases_the_report(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, msg("button.consent"))
    await coach.press(USER, msg("condition.knee"))
    await coach.text(USER, "3")
    await coach.press(USER, msg("button.no"))  # no fall in the last year
    await coach.press(USER, msg("button.no"))  # not unsteady
    await coach.press(USER, msg("button.some_apply"))
    await press_sign(coach, "swelling")
    assert await coach.count(RedFlagReport, RedFlagReport.telegram_user_id == USER) == 1
    await coach.text(USER, "/delete")
    [reply] = await coach.press(USER, msg("button.delete_yes"))
    assert await coach.count(RedFlagReport, RedFlagReport.telegram_user_id == USER) == 0
    assert reply.body == msg("delete.done")


async def test_unknown_command(coach):
    [reply] = await coach.text(STRANGER, "/foo")
    assert reply.body == msg("common.unknown_command")
    await enrol(coach)
    before = await snapshot(coach)
    [reply] = await coach.text(USER, "/foo bar")
    assert reply.body == msg("common.unknown_command")
    assert await snapshot(coach) == before


# --- an exception inside a handler ---------------------------------------------------------------------

async def test_an_exception_in_a_handler_is_answered_kindly_and_rolled_back(coach, monkeypatch):
    await start_session(coach)

    async def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("bot.handlers.session.coaching.answer_rating", boom)
    before = await snapshot(coach)
    replies = await coach.press(USER, "5")
    assert [r.body for r in replies] == [msg("common.error")]
    assert await snapshot(coach) == before  # the claimed answer was rolled back: the question is still open
    replies = await coach.text(USER, "5")
    assert [r.body for r in replies] == [msg("common.error")]
    assert await snapshot(coach) == before

    monkeypatch.undo()
    [reply] = await coach.text(USER, "5")  # the bot still answers, and the question can be answered now
    assert msg("decision.hold.start", limit=5, before=5) in reply.body
    [session] = await coach.rows(ExerciseSession)
    assert session.before == 5
    [reply] = await coach.text(USER, "/help")
    assert reply.body == msg("help.text")
