"""A ceiling that fits the patient: pain during exercise is acceptable up to max(3, min(before, 5)), unless a
clinician set the patient's ceiling (2-6). Sources: Silbernagel 2007; Thomee 1997; NEMEX (docs/clinical.md)."""

from __future__ import annotations

import pytest

from rules import Action, Case, CaseError, Element, Thresholds, decide, parse_request
from rules.limits import during_limit
from tests.rules.helpers import BASE, MAX, TODAY, S, case

T = Thresholds()


@pytest.mark.parametrize("before", range(9))
@pytest.mark.parametrize("during", range(9))
def test_the_formula_over_before_and_during(before: int, during: int) -> None:
    limit = max(3, min(before, 5))
    assert during_limit(before, T) == limit
    d = decide(case("during", S(0, before, during)))
    assert d.limit == limit
    if during >= T.severe:
        assert d.action is Action.STOP
    elif during > limit:
        assert d.action is Action.STEP_BACK and d.message == "decision.step_back.during_pain"
    else:
        assert d.action is Action.HOLD and d.message == "decision.hold.keep_going"


@pytest.mark.parametrize("ceiling", range(2, 7))
@pytest.mark.parametrize("before", range(9))
@pytest.mark.parametrize("during", range(7))
def test_a_clinicians_ceiling_replaces_the_formula(ceiling: int, before: int, during: int) -> None:
    c = Case(TODAY, "during", dict(BASE), dict(MAX), (Element.ROM, Element.REPS), (S(0, before, during),),
             ceiling=ceiling)
    d = decide(c)
    assert d.limit == ceiling
    assert (d.action is Action.STEP_BACK) == (during > ceiling)


def test_a_stable_patient_at_5_holds_progresses_and_never_steps_back_every_session() -> None:
    sessions = [S(-13 + i, 5, 5, 4, 5) for i in range(13)]
    levels, history = dict(BASE), (Element.ROM, Element.REPS)
    actions = []
    for i in range(1, len(sessions) + 1):
        past = sessions[:i]
        for stage in ("during", "after", "next_morning"):
            c = Case(past[-1].date if stage != "next_morning" else TODAY, stage, levels, dict(MAX), history,
                     tuple(past))
            d = decide(c)
            assert d.action is not Action.STEP_BACK
            if d.action is Action.PROGRESS:
                levels, history = d.levels, d.raise_history
                past[-1] = S((past[-1].date - TODAY).days, 5, 5, 4, 5, change="progress")
                sessions[i - 1] = past[-1]
            actions.append(d.action)
    assert Action.PROGRESS in actions and Action.STEP_BACK not in actions


def test_before_1_during_5_still_steps_back() -> None:
    d = decide(case("during", S(0, 1, 5)))
    assert (d.action, d.limit, d.element) == (Action.STEP_BACK, 3, Element.REPS)


def test_the_ceiling_in_json_and_its_bounds() -> None:
    base = {"today": "2026-11-25", "stage": "during", "condition": "knee",
            "levels": {"rom": 1, "reps": 2, "load": 1, "speed": 1},
            "sessions": [{"date": "2026-11-25", "before": 5, "during": 5}]}
    assert decide(*parse_request(base)).action is Action.HOLD  # the formula: 5 is fine after 5 before
    c, t = parse_request({**base, "ceiling": 4})
    assert c.ceiling == 4 and Case.from_json(c.to_json()) == c
    assert decide(c, t).action is Action.STEP_BACK and decide(c, t).limit == 4
    for bad in (1, 7, 3.5, True, "4"):
        with pytest.raises(CaseError, match="ceiling: must be an integer 2-6 or null"):
            parse_request({**base, "ceiling": bad})


@pytest.mark.parametrize("usual", range(9))
@pytest.mark.parametrize("before", range(9))
@pytest.mark.parametrize("during", range(9))
def test_usual_pain_before_and_during(usual: int, before: int, during: int) -> None:
    """The table over usual pain 0-8 x before 0-8 x during 0-8: before exercise, during it, and the next
    morning after two such sessions (pain right after no higher than before, back to before next morning)."""
    limit = max(3, min(before, 5))
    start = decide(case("before", S(0, before), usual_pain=usual))
    if before >= T.severe:  # too painful to exercise today: no exercise, no level change, asked again tomorrow
        assert (start.action, start.message, start.levels) == (Action.STOP, "decision.stop.severe_before", BASE)
    else:
        assert (start.action, start.message, start.limit) == (Action.HOLD, "decision.hold.start", limit)

    now = decide(case("during", S(0, before, during), usual_pain=usual))
    assert now.limit == limit  # usual pain never moves the ceiling; only a clinician does
    if during >= T.severe:
        assert (now.action, now.element, now.ask_next_morning, now.alert) == (Action.STOP, Element.REPS, True, True)
    elif during > limit:
        assert (now.action, now.element) == (Action.STEP_BACK, Element.REPS)
    else:
        assert now.action is Action.HOLD and now.levels == BASE

    after = min(during, before)
    two = (S(-2, before, during, after, before), S(-1, before, during, after, before))
    morning = decide(case("next_morning", *two, usual_pain=usual))
    if during >= T.severe:  # the severe-pain follow-up: still high (>= 7, or >= usual + 2) pauses
        assert morning.pause == (before >= T.severe or before >= usual + 2)
        assert morning.action is (Action.STOP if morning.pause else Action.HOLD)
    elif before < T.severe and during <= limit:
        if usual >= 6:  # progression held until a clinician sets the ceiling
            assert (morning.action, morning.message) == (Action.HOLD, "decision.hold.ceiling_pending")
        else:
            assert morning.action is Action.PROGRESS
    else:
        assert morning.action is not Action.PROGRESS
