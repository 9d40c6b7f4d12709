"""Properties that hold for every valid history (hypothesis)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from rules import (
    CONDITIONS,
    ELEMENT_ORDER,
    Action,
    Case,
    CaseError,
    Decision,
    Element,
    Flag,
    Program,
    SessionRecord,
    Stage,
    Thresholds,
    decide,
    load_program,
    parse_request,
)
from rules.engine import missing
from rules.limits import during_limit
from rules.programs import DEFAULT_NAMES, Exercise
from tests.rules.helpers import TODAY

ratings = st.one_of(st.none(), st.integers(0, 10))
flag_sets = st.frozensets(st.sampled_from(list(Flag)), max_size=2)
rare_flags = st.one_of(st.just(frozenset()), st.just(frozenset()), st.just(frozenset()), flag_sets)


@st.composite
def session(draw: st.DrawFn, day: int) -> SessionRecord:
    """Half the time a session well within limits (so raises happen), else anything valid."""
    date = TODAY + dt.timedelta(days=day)
    if draw(st.booleans()):
        before = draw(st.integers(1, 5))
        return SessionRecord(
            date=date,
            before=before,
            during=draw(st.integers(0, 3)),
            after=draw(st.integers(0, 1)),
            next_morning=draw(st.integers(0, before)),
            level_change=draw(st.sampled_from([None, None, None, Action.PROGRESS])),
        )
    return SessionRecord(
        date=date,
        before=draw(ratings),
        during=draw(ratings),
        after=draw(ratings),
        next_morning=draw(ratings),
        recheck=draw(ratings),
        flags=draw(rare_flags),
        level_change=draw(st.sampled_from([None, None, None, Action.PROGRESS, Action.STEP_BACK])),
    )


@st.composite
def sessions(draw: st.DrawFn) -> tuple[SessionRecord, ...]:
    days = sorted(draw(st.sets(st.integers(-13, 0), max_size=8)))
    return tuple(draw(session(d)) for d in days)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    maxima = {e: draw(st.integers(1, 6)) for e in ELEMENT_ORDER}
    levels = {e: draw(st.integers(1, maxima[e])) for e in ELEMENT_ORDER}
    return Case(
        today=TODAY,
        stage=draw(st.sampled_from([*Stage, Stage.NEXT_MORNING, Stage.NEXT_MORNING, Stage.RECHECK])),
        levels=levels,
        max_levels=maxima,
        raise_history=tuple(draw(st.lists(st.sampled_from(list(Element)), max_size=6))),
        sessions=draw(sessions()),
        flags=draw(st.one_of(st.just(frozenset()), rare_flags)),
        ceiling=draw(st.one_of(st.none(), st.none(), st.integers(2, 6))),
        usual_pain=draw(ratings),
        minimum_alerted=draw(st.booleans()),
    )


thresholds = st.builds(
    Thresholds,
    during_max=st.integers(2, 4),
    severe=st.integers(6, 9),
    sessions_to_progress=st.integers(1, 3),
    trend_min_ratings=st.integers(1, 3),
)


def trend_worse(case: Case, t: Thresholds) -> bool:
    """Independent oracle for the week-to-week rule."""
    age = {s: (case.today - s.date).days for s in case.sessions}
    recent = [s.next_morning for s in case.sessions if s.next_morning is not None and age[s] < 7]
    earlier = [s.next_morning for s in case.sessions if s.next_morning is not None and 7 <= age[s] < 14]
    if min(len(recent), len(earlier)) < t.trend_min_ratings:
        return False
    return sum(recent) / len(recent) > sum(earlier) / len(earlier) + 1e-9


def changed(case: Case, d: Decision) -> dict[Element, int]:
    return {e: d.levels[e] - case.levels[e] for e in ELEMENT_ORDER if d.levels[e] != case.levels[e]}


PROPS = settings(max_examples=150, deadline=None)


@PROPS
@given(cases(), thresholds)
def test_at_most_one_element_changes_by_one(case: Case, t: Thresholds) -> None:
    d = decide(case, t)
    diff = changed(case, d)
    assert len(diff) <= 1
    if d.action is Action.PROGRESS:
        assert diff == {d.element: 1}
        assert d.raise_history == (*case.raise_history, d.element)
    elif d.element is not None:  # a step back, or a severe-pain stop that steps back
        assert d.action in (Action.STEP_BACK, Action.STOP)
        assert diff == {d.element: -1}
        assert d.raise_history == case.raise_history[:-1] or not case.raise_history
    else:
        assert diff == {}
        assert d.element is None
        assert d.raise_history == case.raise_history


@PROPS
@given(cases(), thresholds)
def test_levels_stay_within_1_and_max(case: Case, t: Thresholds) -> None:
    d = decide(case, t)
    assert all(1 <= d.levels[e] <= case.max_levels[e] for e in ELEMENT_ORDER)


@PROPS
@given(cases(), thresholds)
def test_never_raise_on_pain_missing_data_flags_or_worse_trend(case: Case, t: Thresholds) -> None:
    d = decide(case, t)
    if d.action is not Action.PROGRESS:
        return
    s = case.sessions[-1]
    assert s.during is not None and s.during <= d.limit == during_limit(s.before, t, case.ceiling)
    assert not missing(case) and None not in (s.before, s.during, s.after)
    assert not case.flags and not s.flags
    assert not trend_worse(case, t)
    assert s.before is not None and s.before < t.severe and s.during < t.severe and s.after < t.severe
    assert case.usual_pain is None or case.usual_pain < t.usual_high or case.ceiling is not None
    assert case.stage in (Stage.NEXT_MORNING, Stage.RECHECK)
    assert s.level_change is None


@PROPS
@given(cases(), thresholds)
def test_red_flag_always_stops(case: Case, t: Thresholds) -> None:
    d = decide(case, t)
    current = case.sessions[-1].flags if case.sessions and case.stage is not Stage.CHECKIN else frozenset()
    if case.flags or current:
        assert d.action is Action.STOP and d.alert and d.reasons[0] == "red_flag"
        assert d.levels == dict(case.levels) and not d.ask_next_morning and not d.pause
    if d.action is Action.STOP:
        assert not d.recheck


@PROPS
@given(cases(), thresholds)
def test_severe_pain_is_always_followed_by_a_next_morning_question_or_a_pause(case: Case, t: Thresholds) -> None:
    """Pain >= severe during, right after, the next morning or at the recheck: the clinic is alerted and the
    patient is asked again the next morning, or the program pauses; before exercise: no exercise today."""
    d = decide(case, t)
    s = case.current
    if s is None or case.stage is Stage.CHECKIN or (d.reasons and d.reasons[0] == "red_flag"):
        return
    rating = getattr(s, case.stage.value)
    if rating is None or rating < t.severe:
        return
    if case.stage is Stage.BEFORE:
        assert d.action is Action.STOP and d.levels == dict(case.levels)
    else:
        assert d.ask_next_morning or d.pause
        assert d.alert
        assert d.action is not Action.PROGRESS


@PROPS
@given(cases(), thresholds)
def test_too_painful_before_exercise_alerts_once_per_run_at_the_second_in_a_row(case: Case, t: Thresholds) -> None:
    """Before >= severe: the clinic is alerted exactly when this is the second rated session in a row (within
    history_days) to start at >= severe: not the first, not the third and later (until a good day)."""
    d = decide(case, t)
    s = case.current
    if case.stage is not Stage.BEFORE or s is None or s.before is None or s.before < t.severe \
            or d.reasons[0] == "red_flag":
        return
    rated = [x for x in case.sessions if x.before is not None and (case.today - x.date).days < t.history_days]
    run = 0
    for x in reversed(rated):
        if x.before is None or x.before < t.severe:
            break
        run += 1
    assert d.action is Action.STOP and d.alert == (run == 2)


@PROPS
@given(cases(), thresholds)
def test_a_pause_stops_and_alerts(case: Case, t: Thresholds) -> None:
    d = decide(case, t)
    if d.pause:
        assert d.action is Action.STOP and d.alert and not d.ask_next_morning
        assert case.stage in (Stage.NEXT_MORNING, Stage.RECHECK)


@PROPS
@given(cases(), thresholds)
def test_deterministic_and_json_round_trip(case: Case, t: Thresholds) -> None:
    assert Case.from_json(case.to_json()) == case
    assert decide(case, t) == decide(Case.from_json(case.to_json()), t)
    assert decide(case, t).to_json() == decide(case, t).to_json()
    assert Thresholds.from_mapping(t.to_json()) == t


@PROPS
@given(cases())
def test_reasons_known_and_message_from_first(case: Case) -> None:
    from rules import MESSAGE_KEYS, REASONS

    d = decide(case)
    assert set(d.reasons) <= set(REASONS)
    assert d.message in MESSAGE_KEYS
    assert d.program_complete == (d.message == "decision.hold.program_complete")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 20) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
REQUEST = {
    "today": "2026-11-25", "stage": "after", "condition": "knee",
    "levels": {"rom": 1, "reps": 2, "load": 1, "speed": 1}, "raise_history": ["reps"], "flags": [],
    "sessions": [{"date": "2026-11-25", "before": 2, "during": 2, "after": 1, "flags": [], "level_change": None}],
    "thresholds": {"during_max": 3},
}
FIELDS = [(k,) for k in REQUEST] + [("sessions", 0, k) for k in REQUEST["sessions"][0]] + [
    ("levels", "rom"), ("thresholds", "severe"), ("max_levels",)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIELDS), json_values, st.booleans())
def test_malformed_input_only_raises_case_error(path: tuple, value: object, drop: bool) -> None:
    """Any JSON in any field: a decision or a CaseError naming a field, never another exception."""
    request = copy.deepcopy(REQUEST)
    node = request
    for key in path[:-1]:
        node = node[key]
    if drop:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    try:
        case, t = parse_request(request)
    except CaseError as err:
        assert err.field and "\n" not in err.field
        return
    decide(case, t)


# --- per-exercise ladders (issue 9): a decision changes one element, one level, in every exercise it applies to


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """A program of 1-5 exercises, each with its own subset of elements and ladder lengths (1-8 levels)."""
    exercises = []
    for i in range(draw(st.integers(1, 5))):
        elements = draw(st.sets(st.sampled_from(ELEMENT_ORDER), min_size=1))
        ladder = {e: tuple(f"{e.value}{n}" for n in range(1, draw(st.integers(1, 8)) + 1))
                  for e in ELEMENT_ORDER if e in elements}
        exercises.append(Exercise(id=f"x{i}", name=f"運動{i}", how="…", ladder=ladder))
    return Program(condition="test", title="テスト", exercises=tuple(exercises), names=DEFAULT_NAMES)


@st.composite
def program_cases(draw: st.DrawFn) -> tuple[Program, Case]:
    program = draw(st.one_of(st.sampled_from([load_program(c) for c in CONDITIONS]), programs()))
    maxima = program.max_levels
    case = draw(cases())
    levels = {e: draw(st.integers(1, maxima[e])) for e in ELEMENT_ORDER}
    return program, dataclasses.replace(case, levels=levels, max_levels=maxima)


@PROPS
@given(program_cases(), thresholds)
def test_a_decision_changes_one_element_by_one_level_in_each_exercise_it_applies_to(
        drawn: tuple[Program, Case], t: Thresholds) -> None:
    program, case = drawn
    d = decide(case, t)
    changes = program.changes(case.levels, d.levels)
    assert {c.element for c in changes} <= ({d.element} if d.element else set())  # never two elements
    if d.element is None:
        assert changes == ()
        return
    e = d.element
    step = 1 if d.action is Action.PROGRESS else -1
    for x in program.exercises:
        before, after = x.level(case.levels, e), x.level(d.levels, e)
        if before is None:
            assert after is None  # an element that does not apply to an exercise never shows in it
            continue
        assert after is not None
        if step == 1:  # raised by one where it applies and is not yet at its top
            assert after - before == (1 if before < x.top(e) else 0)
        else:  # lowered by one where the counter was within its top: the exercise was at the counter
            assert before - after == (1 if case.levels[e] <= x.top(e) else 0)
    assert changes, "a level change always changes the dose of at least one exercise"
    assert all(other == x.level(d.levels, o) for x in program.exercises for o in ELEMENT_ORDER if o != e
               for other in [x.level(case.levels, o)])
