"""rules.limits_broken: which of the clinic's limits a session broke; the one definition the engine decides
with and the clinicians' summary reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import LIMITS, Limit, Stage, Thresholds, decide, limits_broken
from tests.rules.helpers import S, case

L = Limit
ratings = st.one_of(st.none(), st.integers(0, 10))


@pytest.mark.parametrize(("session", "expected"), [
    (S(0, 2, 2, 1, 2, None), set()),  # within every limit
    (S(0, 2, 3, 1), set()),  # during at the ceiling 3/10 is within
    (S(0, 2, 4, 1), {L.DURING_OVER}),
    (S(0, 2, 7, 1), {L.DURING_OVER, L.SEVERE}),
    (S(0, 2, 2, 7), {L.SEVERE, L.NOT_SETTLED}),  # severe right after, and higher than before and during
    (S(0, 2, 2, 3), {L.NOT_SETTLED}),
    (S(0, 3, 2, 3), set()),  # after == before: settled back to the reference
    (S(0, 2, 2, 1, 3), {L.MORNING_ABOVE}),
    (S(0, 2, 2, 1, 3, 3), {L.MORNING_ABOVE, L.RECHECK_ABOVE}),
    (S(0, 2, 2, 1, 3, 2), {L.MORNING_ABOVE}),  # the recheck is back at the reference
    (S(0, None, 5, None, 4, 4), {L.DURING_OVER}),  # no reference: nothing is "above" it
    (S(0), set()),  # nothing rated, nothing broken
])
def test_each_limit_at_its_boundary(session, expected):
    assert limits_broken(session, Thresholds()) == frozenset(expected)


def test_thresholds_move_the_limits():
    session = S(0, 2, 4, 1)
    assert limits_broken(session, Thresholds(during_max=4)) == frozenset()
    assert limits_broken(S(0, 2, 2, 6), Thresholds(severe=6)) == {L.SEVERE, L.NOT_SETTLED}


def test_limits_are_listed_in_summary_order_with_stable_ids():
    assert [str(x) for x in LIMITS] == ["during_over", "severe", "not_settled", "morning_above", "recheck_above"]


# The engine's reason for each limit, and the stage at which it is judged.
REASON = {
    L.DURING_OVER: ("during_over_limit", Stage.AFTER),
    L.SEVERE: ("severe_pain", Stage.AFTER),
    L.NOT_SETTLED: ("not_settled", Stage.AFTER),
    L.MORNING_ABOVE: ("next_morning_above_reference", Stage.NEXT_MORNING),
    L.RECHECK_ABOVE: ("recheck_above_reference", Stage.RECHECK),
}


@settings(max_examples=300, deadline=None)
@given(before=ratings, during=ratings, after=ratings, morning=ratings, recheck=ratings,
       limit=st.sampled_from(list(Limit)))
def test_the_engine_decides_with_the_same_limits(before, during, after, morning, recheck, limit):
    """A rule about a limit fires exactly when limits_broken says the session broke it."""
    session = S(0, before, during, after, morning, recheck)
    reason, stage = REASON[limit]
    decision = decide(case(stage.value, session))
    assert (reason in decision.reasons) == (limit in limits_broken(session, Thresholds()))
