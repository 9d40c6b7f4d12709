"""Every patient state x every state-changing event (bot/coaching/patients.py), on a real database.

Each case starts from a patient in the middle of a session (a question on screen, the next question due,
a /settings input half-typed, the question about continuing after the trial open), applies one event, and
checks what it must: the allowed transitions change the state as they should, the others change nothing,
and afterwards no question stays open and nothing is left to send for an ended, paused or deleted
patient, while an active patient's days go on (one next reminder, one weekly explanation).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot import coaching
from bot.clock import Clock
from bot.coaching import patients as patient_state
from bot.coaching.schedule import TRIAL_KINDS
from bot.config import Settings
from bot.delivery.registry import KINDS, cancelled_by_end, cancelled_by_pause
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import outbox, sessions
from bot.storage.db import Database
from bot.storage.models import Outbox, Patient, Prompt, Signup
from tests.harness import TOKEN

START = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo, after the 09:00 reminder

Event = Callable[[object, Runtime, Patient], Awaitable[bool | None]]
EVENTS: dict[str, Event] = {
    "rejoin": patient_state.rejoin,
    "pause": patient_state.pause,
    "resume": patient_state.resume,
    "continue": patient_state.continue_trial,
    "end": patient_state.end,
    "expire": patient_state.expire,
    "unreachable": patient_state.unreachable,
    "reachable": patient_state.reachable,
    "condition": lambda s, rt, p: patient_state.change_condition(s, rt, p, "low_back"),
    "time": lambda s, rt, p: patient_state.change_time(s, rt, p, "exercise_time", "18:00"),
    "delete": lambda s, rt, p: patient_state.delete(s, rt, p.telegram_user_id),
}

# (status, paused, unreachable) of each starting state
STATES = {
    "trial": ("trial", False, False),
    "active": ("active", False, False),
    "paused": ("trial", True, False),
    "ended": ("ended", False, False),
    "unreachable": ("trial", False, True),
}
DELETED = "deleted"
SAME = "same"  # refused: nothing changes
# state x event -> the state after it (SAME: the event does not apply and changes nothing)
EXPECTED: dict[tuple[str, str], tuple[str, bool, bool] | str] = {
    ("trial", "rejoin"): SAME, ("trial", "pause"): ("trial", True, False), ("trial", "resume"): SAME,
    ("trial", "continue"): ("active", False, False), ("trial", "end"): ("ended", False, False),
    ("trial", "expire"): ("ended", False, False), ("trial", "unreachable"): ("trial", False, True),
    ("trial", "reachable"): SAME,

    ("active", "rejoin"): SAME, ("active", "pause"): ("active", True, False), ("active", "resume"): SAME,
    ("active", "continue"): SAME, ("active", "end"): ("ended", False, False), ("active", "expire"): SAME,
    ("active", "unreachable"): ("active", False, True), ("active", "reachable"): SAME,

    ("paused", "rejoin"): SAME, ("paused", "pause"): ("trial", True, False),
    ("paused", "resume"): ("trial", False, False), ("paused", "continue"): ("active", True, False),
    ("paused", "end"): ("ended", False, False), ("paused", "expire"): ("ended", False, False),
    ("paused", "unreachable"): ("trial", True, True), ("paused", "reachable"): SAME,

    ("ended", "rejoin"): ("trial", False, False), ("ended", "pause"): SAME, ("ended", "resume"): SAME,
    ("ended", "continue"): SAME, ("ended", "end"): SAME, ("ended", "expire"): SAME,
    ("ended", "unreachable"): ("ended", False, True), ("ended", "reachable"): SAME,
    ("ended", "condition"): SAME, ("ended", "time"): SAME,

    ("unreachable", "rejoin"): SAME, ("unreachable", "pause"): ("trial", True, True),
    ("unreachable", "resume"): SAME, ("unreachable", "continue"): ("active", False, True),
    ("unreachable", "end"): ("ended", False, True), ("unreachable", "expire"): ("ended", False, True),
    ("unreachable", "unreachable"): ("trial", False, True), ("unreachable", "reachable"): ("trial", False, False),
}
for _state, _shape in STATES.items():
    EXPECTED.setdefault((_state, "delete"), DELETED)
    EXPECTED.setdefault((_state, "condition"), _shape)  # settings keep the state
    EXPECTED.setdefault((_state, "time"), _shape)


@pytest.fixture
async def rt(database_url):
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=database_url)
    runtime = Runtime(settings, Database(database_url), Clock(frozen_at=START))
    await runtime.db.migrate()
    yield runtime
    await runtime.db.dispose()


async def _patient_in(rt: Runtime, state: str, user_id: int) -> int:
    """A patient mid-session in `state`: the during question on screen and due again, the trial question
    open, a /settings time half-typed."""
    async with rt.db.session() as s:
        now = rt.clock.now()
        sign = Signup(telegram_user_id=user_id, chat_id=user_id, step="confirm", consent_at=now, updated_at=now,
                      data={"condition": "knee", "usual_pain": 3, "exercise_time": "09:00",
                            "morning_time": "07:00", "nickname": f"p{user_id}"})
        s.add(sign)
        await s.flush()
        p = await patient_state.enrol(s, rt, sign)
        session = await coaching.session_for_today(s, rt, p)
        before = (await coaching.start_session(s, rt, p, session)).buttons[0][0][1]  # rt:<prompt>:0
        prompt = await sessions.take_answer(s, int(before.split(":")[1]), p.id, "2", now, kinds=("before",))
        await coaching.answer_rating(s, rt, p, prompt, 2)  # schedules the during question
        await coaching.ask(s, rt, p, session, "during", "ask.during")  # ... and the patient asked for it
        await sessions.ask(s, patient_id=p.id, kind="trial", now=now)  # the trial notice's question
        p.awaiting = "exercise_time"
        match state:
            case "active":
                await patient_state.continue_trial(s, rt, p)
            case "paused":
                await patient_state.pause(s, rt, p)
            case "ended":
                await patient_state.end(s, rt, p)
            case "unreachable":
                await patient_state.unreachable(s, rt, p)
        assert (p.status, p.paused, p.unreachable) == STATES[state]
        return p.id


async def _check(rt: Runtime, pid: int, user_id: int, expected, before: tuple[str, bool, bool]) -> None:
    async with rt.db.session() as s:
        p = await s.get(Patient, pid)
        rows = list(await s.scalars(select(Outbox).where(Outbox.patient_id == pid, Outbox.state == outbox.PENDING)))
        open_questions = list(await s.scalars(select(Prompt).where(
            Prompt.patient_id == pid, Prompt.answered_at.is_(None), Prompt.closed.is_(False))))
    for row in rows:  # each row carries the key columns its kind declares (an alert about no session, e.g. a
        # change of program, has none: its variant carries the time, bot/alerts.py:schedule)
        optional = {"session_id"} if row.kind == "alert" else set()
        assert all(getattr(row, c) is not None for c in KINDS[row.kind].key if c not in optional), \
            (row.kind, row.dedupe_key)
    if expected == DELETED:
        assert p is None and rows == [] and open_questions == []
        async with rt.db.session() as s:
            assert await s.scalar(select(Outbox.id).where(Outbox.patient_id == pid)) is None
            assert await s.scalar(select(Prompt.id).where(Prompt.patient_id == pid)) is None
        return
    assert p is not None
    status, paused, unreachable = before if expected == SAME else expected
    assert (p.status, p.paused, p.unreachable) == (status, paused, unreachable)
    pending = sorted(r.kind for r in rows)
    asked = sorted(q.kind for q in open_questions)
    if status == "ended" or paused or unreachable:  # a button left on screen asks nothing ("ask me now")
        async with rt.db.session() as s:
            p = await s.get(Patient, pid)
            session = await coaching.session_for_today(s, rt, p)
            assert (await coaching.ask_now(s, rt, p, session, "during")).text == t("common.closed")
            still_open = list(await s.scalars(select(Prompt).where(
                Prompt.patient_id == pid, Prompt.answered_at.is_(None), Prompt.closed.is_(False))))
            assert len(still_open) == len(open_questions), "no question is asked of a patient who is not active"
    if status == "ended":
        assert [k for k in pending if k in cancelled_by_end()] == [], "nothing is sent to an ended patient"
        assert asked == [], "no question of an ended patient stays open"
        assert p.awaiting is None
        return
    if paused:
        assert [k for k in pending if k in cancelled_by_pause()] == [], "nothing about exercise while paused"
        assert set(asked) <= {"trial"}, "only the question about continuing stays open during a pause"
    if unreachable:
        assert [k for k in pending if k in cancelled_by_pause()] == []
    if not paused and not unreachable:
        assert pending.count("reminder") == 1 and pending.count("why") == 1, pending
    trial_rows = sorted(k for k in pending if k in TRIAL_KINDS)
    if status == "active":
        assert trial_rows == [] and "trial" not in asked
    else:
        assert trial_rows == ["trial_expire", "trial_notice"]  # the trial runs out, paused or unreachable


async def test_every_state_and_event(rt):
    cases = [(state, event) for state in STATES for event in EVENTS]
    assert {k for k in EXPECTED} == set(cases)
    for n, (state, event) in enumerate(cases):
        user_id = 7000 + n
        pid = await _patient_in(rt, state, user_id)
        async with rt.db.session() as s:
            p = await s.get(Patient, pid)
            result = await EVENTS[event](s, rt, p)
        expected = EXPECTED[(state, event)]
        if expected == SAME:
            assert result is False, (state, event)
        elif result is not None:
            assert result is True, (state, event)
        try:
            await _check(rt, pid, user_id, expected, STATES[state])
        except AssertionError as exc:
            raise AssertionError(f"{state} x {event}: {exc}") from exc


async def test_rejoin_starts_a_new_trial_period_with_its_own_end(rt):
    pid = await _patient_in(rt, "ended", 6999)
    rt.clock.travel(datetime(2027, 1, 10, tzinfo=UTC) - START)
    async with rt.db.session() as s:
        p = await s.get(Patient, pid)
        assert await patient_state.rejoin(s, rt, p)
        ends = p.trial_ends_on
    async with rt.db.session() as s:
        expiries = list(await s.scalars(select(Outbox).where(Outbox.patient_id == pid,
                                                             Outbox.kind == "trial_expire")))
    assert ends.isoformat() == "2027-01-24"
    [pending] = [r for r in expiries if r.state == outbox.PENDING]
    assert pending.due_at.replace(tzinfo=UTC) == datetime(2027, 1, 24, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
