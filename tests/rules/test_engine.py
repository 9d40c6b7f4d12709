"""Worked cases: every rule, and every precedence between two rules that can fire together.

Base case: levels rom 2, reps 3, load 1, speed 1 (max 3/5/4/3), raised so far: rom, reps.
A step back therefore lowers reps to 2; a raise goes to load.
Pairs that cannot fire together: 2-7, 3-7, 5-7 (limits exclude them), 7-8 and 7-9 (stage rating present/lower),
5-8 (not settled is judged right after only, with all three ratings).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from rules import Action, Case, Element, Stage, Thresholds, decide
from tests.rules.helpers import BASE, MAX, TREND, S, case

R, P, L, SP = Element.ROM, Element.REPS, Element.LOAD, Element.SPEED
ONES = {R: 1, P: 1, L: 1, SP: 1}
STOP, HOLD, BACK, UP = Action.STOP, Action.HOLD, Action.STEP_BACK, Action.PROGRESS
GOOD2, GOOD1 = S(-2, 2, 2, 1, 2), S(-1, 2, 2, 1, 1)  # two sessions within limits


class Row(NamedTuple):
    id: str
    case: Case
    action: Action
    element: Element | None
    levels: dict[Element, int]  # changes from the case's levels
    reasons: tuple[str, ...]
    message: str
    extra: dict[str, Any] = {}  # noqa: RUF012 - NamedTuple default, never mutated


ROWS = [
    # --- CHECKIN -----------------------------------------------------------------------------------
    Row("checkin_ok", case("checkin"), HOLD, None, {}, (), "decision.hold.checkin_ok"),
    Row("checkin_red_flag", case("checkin", flags=("fever",)), STOP, None, {}, ("red_flag",),
        "decision.stop.red_flag_rest_today", {"alert": True, "urgent": False, "tier": "rest_today"}),
    Row("checkin_urgent", case("checkin", flags=("saddle_numbness", "fever")), STOP, None, {}, ("red_flag",),
        "decision.stop.red_flag_urgent", {"alert": True, "urgent": True, "tier": "emergency"}),
    Row("checkin_same_day", case("checkin", flags=("cannot_bear_weight", "fever")), STOP, None, {}, ("red_flag",),
        "decision.stop.red_flag_same_day", {"alert": True, "urgent": False, "tier": "same_day"}),
    Row("checkin_catalogue_item", case("checkin", flags=("chest_pain",)), STOP, None, {}, ("red_flag",),
        "decision.stop.red_flag_urgent", {"urgent": True, "tier": "emergency"}),
    Row("checkin_signup_screen", case("checkin", flags=("back_weight_loss",)), STOP, None, {}, ("red_flag",),
        "decision.stop.red_flag", {"urgent": False, "tier": "screen_back"}),
    Row("checkin_ignores_session_ratings", case("checkin", S(-1, 2, 5, 3)), HOLD, None, {}, (),
        "decision.hold.checkin_ok"),
    # --- 1 red flag --------------------------------------------------------------------------------
    Row("session_flag", case("during", S(0, 2, 2, flags=("swelling",))), STOP, None, {}, ("red_flag",),
        "decision.stop.red_flag_rest_today", {"alert": True}),
    Row("bladder_bowel_urgent", case("after", S(0, 2, 2, 1), flags=("bladder_bowel",)), STOP, None, {},
        ("red_flag",), "decision.stop.red_flag_urgent", {"urgent": True, "alert": True}),
    # --- 2 severe pain -----------------------------------------------------------------------------
    Row("severe_during", case("during", S(0, 2, 7)), STOP, P, {P: 2}, ("severe_pain", "during_over_limit"),
        "decision.stop.severe_pain", {"alert": True, "urgent": False, "ask_next_morning": True,
                                      "raise_history": (R,), "pause": False}),
    Row("severe_after_only", case("after", S(0, 8, 2, 7)), STOP, P, {P: 2}, ("severe_pain",),
        "decision.stop.severe_pain", {"alert": True, "ask_next_morning": True}),
    Row("severe_even_if_adjusted", case("during", S(0, 2, 8, change="step_back")), STOP, None, {},
        ("severe_pain", "during_over_limit", "already_adjusted"), "decision.stop.severe_pain_hold",
        {"alert": True, "ask_next_morning": True}),
    Row("severe_at_minimum", case("after", S(0, 2, 2, 8), levels=ONES, history=()), STOP, None, {},
        ("severe_pain", "not_settled", "step_back_at_minimum"), "decision.stop.severe_pain_hold",
        {"alert": True, "ask_next_morning": True}),
    # before >= severe: no exercise today; the normal reminder asks again tomorrow; twice in a row alerts
    Row("severe_before", case("before", S(0, 7)), STOP, None, {}, ("severe_before",), "decision.stop.severe_before",
        {"alert": False, "ask_next_morning": False, "pause": False}),
    Row("severe_before_twice", case("before", S(-1, 8), S(0, 7)), STOP, None, {}, ("severe_before_twice",),
        "decision.stop.severe_before_twice", {"alert": True}),
    # a third day in a row: said again (phone the clinic), no new alert; a good day in between starts a new run
    Row("severe_before_third_day", case("before", S(-2, 9), S(-1, 8), S(0, 7)), STOP, None, {},
        ("severe_before_twice",), "decision.stop.severe_before_again", {"alert": False}),
    Row("severe_before_twice_after_a_good_day", case("before", S(-4, 8), S(-3, 8), S(-2, 2, 2, 1, 2), S(-1, 8),
                                                      S(0, 7)), STOP, None, {}, ("severe_before_twice",),
        "decision.stop.severe_before_twice", {"alert": True}),
    Row("severe_before_after_an_ordinary_session", case("before", S(-1, 3, 2, 1, 2), S(0, 9)), STOP, None, {},
        ("severe_before",), "decision.stop.severe_before", {"alert": False}),
    # the next morning after severe pain during/after: still high pauses, lower holds (already stepped back)
    Row("severe_follow_up_still_severe", case("next_morning", S(-1, 2, 8, None, 7, change="step_back")), STOP,
        None, {}, ("severe_persists", "during_over_limit", "missing_ratings", "next_morning_above_reference"),
        "decision.stop.severe_persists", {"pause": True, "alert": True, "recheck": False, "missing": ("after",)}),
    Row("severe_follow_up_usual_plus_2", case("next_morning", S(-1, 3, 3, 8, 5, change="step_back"), usual_pain=3),
        STOP, None, {}, ("severe_persists", "next_morning_above_reference"), "decision.stop.severe_persists",
        {"pause": True, "alert": True}),
    Row("severe_follow_up_below_usual_plus_2", case("next_morning", S(-1, 3, 3, 8, 4, change="step_back"),
        usual_pain=3), HOLD, None, {}, ("severe_settled", "next_morning_above_reference"),
        "decision.hold.severe_settled", {"pause": False, "alert": False, "recheck": True}),
    Row("severe_follow_up_settled", case("next_morning", S(-1, 2, 8, None, 2, change="step_back")), HOLD, None, {},
        ("severe_settled", "during_over_limit", "missing_ratings"), "decision.hold.severe_settled",
        {"pause": False, "alert": False}),
    # a next morning >= severe after an ordinary session: alert, step back, ask again the next morning
    Row("severe_morning", case("next_morning", S(-1, 2, 2, 1, 8)), BACK, P, {P: 2},
        ("severe_morning", "next_morning_above_reference"), "decision.step_back.severe_morning",
        {"alert": True, "ask_next_morning": True, "recheck": False}),
    Row("severe_morning_at_minimum", case("next_morning", S(-1, 2, 2, 1, 8), levels=ONES, history=()), HOLD, None,
        {}, ("severe_morning", "next_morning_above_reference", "step_back_at_minimum"),
        "decision.hold.severe_morning", {"alert": True, "ask_next_morning": True}),
    Row("severe_morning_already_adjusted", case("next_morning", S(-1, 2, 5, 2, 9, change="step_back")), HOLD,
        None, {}, ("severe_morning", "during_over_limit", "next_morning_above_reference", "already_adjusted"),
        "decision.hold.severe_morning", {"alert": True, "ask_next_morning": True}),
    Row("severe_morning_followed_still_severe", case("recheck", S(-1, 2, 2, 1, 8, 7, change="step_back")), STOP,
        None, {}, ("severe_persists", "recheck_above_reference"), "decision.stop.severe_persists", {"pause": True}),
    Row("severe_morning_followed_usual_plus_2", case("recheck", S(-1, 2, 2, 1, 8, 6, change="step_back"),
        usual_pain=4), STOP, None, {}, ("severe_persists", "recheck_above_reference"),
        "decision.stop.severe_persists", {"pause": True}),
    Row("severe_morning_followed_lower", case("recheck", S(-1, 2, 2, 1, 8, 3, change="step_back"), usual_pain=4),
        HOLD, None, {}, ("severe_settled", "recheck_above_reference"), "decision.hold.severe_settled",
        {"pause": False, "alert": False}),
    Row("severe_morning_then_a_session_still_high", case("next_morning", S(-2, 2, 2, 1, 8, change="step_back"),
        S(-1, 3, 3, 2, 7)), STOP, None, {}, ("severe_persists", "severe_morning", "next_morning_above_reference"),
        "decision.stop.severe_persists", {"pause": True}),
    Row("severe_morning_then_a_session_lower", case("next_morning", S(-2, 2, 2, 1, 8, change="step_back"),
        S(-1, 3, 3, 2, 3)), HOLD, None, {}, ("needs_more_sessions",), "decision.hold.one_more"),
    Row("recheck_severe_after_a_rise", case("recheck", S(-1, 2, 2, 1, 4, 7)), STOP, None, {},
        ("severe_persists", "recheck_above_reference"), "decision.stop.severe_persists", {"pause": True}),
    # --- 3 during over the limit -------------------------------------------------------------------
    Row("during_3_is_fine", case("during", S(0, 2, 3)), HOLD, None, {}, (), "decision.hold.keep_going"),
    Row("during_over", case("during", S(0, 2, 4)), BACK, P, {P: 2}, ("during_over_limit",),
        "decision.step_back.during_pain", {"raise_history": (R,), "alert": False}),
    Row("during_over_undoes_last_raise", case("during", S(0, 2, 4), history=(P, R)), BACK, R, {R: 1},
        ("during_over_limit",), "decision.step_back.during_pain", {"raise_history": (P,)}),
    Row("during_over_no_history_lowers_reps", case("during", S(0, 2, 4), history=()), BACK, P, {P: 2},
        ("during_over_limit",), "decision.step_back.during_pain", {"raise_history": ()}),
    Row("during_over_at_minimum", case("during", S(0, 2, 4), levels=ONES, history=()), HOLD, None, {},
        ("during_over_limit", "step_back_at_minimum"), "decision.hold.at_minimum", {"alert": True}),
    Row("during_over_at_minimum_again", case("during", S(0, 2, 4), levels=ONES, history=(), minimum_alerted=True),
        HOLD, None, {}, ("during_over_limit", "step_back_at_minimum"), "decision.hold.at_minimum_again",
        {"alert": False}),
    Row("during_over_already_adjusted", case("after", S(0, 2, 5, 2, change="step_back")), HOLD, None, {},
        ("during_over_limit", "already_adjusted"), "decision.hold.already_adjusted", {"alert": False}),
    Row("already_adjusted_before_minimum", case("during", S(0, 2, 4, change="step_back"), levels=ONES),
        HOLD, None, {}, ("during_over_limit", "already_adjusted"), "decision.hold.already_adjusted"),
    # --- 4 recheck above the reference ---------------------------------------------------------------
    Row("recheck_high", case("recheck", S(-1, 2, 2, 1, 4, 3)), BACK, P, {P: 2}, ("recheck_above_reference",),
        "decision.step_back.recheck_high", {"raise_history": (R,)}),
    # --- 5 not settled -----------------------------------------------------------------------------
    Row("not_settled", case("after", S(0, 2, 2, 3)), HOLD, None, {}, ("not_settled",),
        "decision.hold.not_settled"),
    Row("not_settled_not_repeated_next_morning", case("next_morning", S(-1, 2, 2, 3, 2)), HOLD, None, {}, (),
        "decision.hold.morning_ok"),
    Row("not_settled_not_repeated_at_recheck", case("recheck", S(-1, 2, 2, 3, 4, 2)), HOLD, None, {}, (),
        "decision.hold.recheck_ok"),
    Row("after_above_during_but_not_before", case("after", S(0, 3, 1, 2)), HOLD, None, {}, (),
        "decision.hold.await_next_morning"),
    # --- 6 trend -----------------------------------------------------------------------------------
    Row("trend_worse_at_before", case("before", *TREND, S(0, 2)), HOLD, None, {}, ("trend_worse",),
        "decision.hold.trend_worse"),
    Row("trend_needs_two_ratings_per_window", case("next_morning", *TREND[1:], S(-1, 2, 2, 1, 2)), UP, L,
        {L: 2}, ("limits_met",), "decision.progress"),
    Row("trend_equal_is_not_worse", case("next_morning", S(-10, 2, 2, 1, 2), S(-8, 2, 2, 1, 2), *TREND[2:],
        S(-1, 2, 2, 1, 2)), UP, L, {L: 2}, ("limits_met",), "decision.progress"),
    Row("trend_day_minus_7_is_last_week", case("before", S(-9, 2, 2, 1, 1), S(-7, 2, 2, 1, 1),
        S(-3, 2, 2, 1, 2), S(-1, 2, 2, 1, 2), S(0, 2)), HOLD, None, {}, ("trend_worse",),
        "decision.hold.trend_worse"),
    # --- 7 progress --------------------------------------------------------------------------------
    Row("progress", case("next_morning", GOOD2, GOOD1), UP, L, {L: 2}, ("limits_met",), "decision.progress",
        {"raise_history": (R, P, L), "program_complete": False}),
    Row("progress_first_is_rom", case("next_morning", GOOD2, GOOD1, levels=ONES, history=()), UP, R, {R: 2},
        ("limits_met",), "decision.progress", {"raise_history": (R,)}),
    Row("progress_skips_max", case("next_morning", GOOD2, GOOD1, levels={**BASE, L: 4}, history=(P,)), UP, SP,
        {SP: 2}, ("limits_met",), "decision.progress", {"raise_history": (P, SP)}),
    Row("progress_cycles", case("next_morning", GOOD2, GOOD1, levels={**BASE, R: 3}, history=(SP,)), UP, P,
        {P: 4}, ("limits_met",), "decision.progress", {"raise_history": (SP, P)}),
    Row("progress_at_recheck", case("recheck", GOOD2, S(-1, 2, 2, 1, 4, 2)), UP, L, {L: 2}, ("limits_met",),
        "decision.progress", {"recheck": False}),
    Row("program_complete", case("next_morning", GOOD2, GOOD1, levels=MAX, history=(SP,)), HOLD, None, {},
        ("program_complete",), "decision.hold.program_complete", {"program_complete": True}),
    Row("one_more_first_session", case("next_morning", GOOD1), HOLD, None, {}, ("needs_more_sessions",),
        "decision.hold.one_more"),
    Row("one_more_after_raise", case("next_morning", S(-2, 2, 2, 1, 2, change="progress"), GOOD1), HOLD, None,
        {}, ("needs_more_sessions",), "decision.hold.one_more"),
    Row("one_more_after_bad_session", case("next_morning", S(-2, 2, 4, 1, 2), GOOD1), HOLD, None, {},
        ("needs_more_sessions",), "decision.hold.one_more"),
    Row("progress_already_adjusted", case("next_morning", GOOD2, S(-1, 2, 2, 1, 1, change="progress")), HOLD,
        None, {}, ("limits_met", "already_adjusted"), "decision.hold.already_adjusted_morning"),
    Row("usual_pain_6_holds_progress", case("next_morning", GOOD2, GOOD1, usual_pain=6), HOLD, None, {},
        ("usual_pain_high",), "decision.hold.ceiling_pending"),
    Row("usual_pain_6_with_a_ceiling_progresses", case("next_morning", GOOD2, GOOD1, usual_pain=6, ceiling=3), UP,
        L, {L: 2}, ("limits_met",), "decision.progress"),
    Row("usual_pain_5_progresses", case("next_morning", GOOD2, GOOD1, usual_pain=5), UP, L, {L: 2},
        ("limits_met",), "decision.progress"),
    Row("no_progress_at_after", case("after", GOOD2, S(0, 2, 2, 1)), HOLD, None, {}, (),
        "decision.hold.await_next_morning"),
    # --- 8 missing ratings -------------------------------------------------------------------------
    Row("missing_before_at_before", case("before", S(0)), HOLD, None, {}, ("missing_ratings",),
        "decision.hold.missing", {"missing": ("before",)}),
    Row("missing_during_at_after", case("after", S(0, 2, None, 1)), HOLD, None, {}, ("missing_ratings",),
        "decision.hold.missing", {"missing": ("during",)}),
    Row("missing_reference", case("next_morning", GOOD2, S(-1, None, 2, 1, 2)), HOLD, None, {},
        ("missing_ratings",), "decision.hold.missing", {"missing": ("before",)}),
    Row("missing_recheck", case("recheck", S(-1, 2, 2, 1, 4)), HOLD, None, {}, ("missing_ratings",),
        "decision.hold.missing", {"missing": ("recheck",)}),
    Row("no_session_at_next_morning", case("next_morning"), HOLD, None, {}, ("missing_ratings",),
        "decision.hold.missing", {"missing": ("before", "during", "after", "next_morning")}),
    # --- 9 stage messages --------------------------------------------------------------------------
    Row("start", case("before", S(0, 2)), HOLD, None, {}, (), "decision.hold.start"),
    Row("keep_going", case("during", S(0, 2, 1)), HOLD, None, {}, (), "decision.hold.keep_going"),
    Row("await_next_morning", case("after", S(0, 2, 2, 2)), HOLD, None, {}, (),
        "decision.hold.await_next_morning"),
    Row("recheck_pending", case("next_morning", S(-1, 2, 2, 1, 3)), HOLD, None, {},
        ("next_morning_above_reference",), "decision.hold.recheck_pending", {"recheck": True, "alert": False}),
    # --- precedence: rule i over rule j -----------------------------------------------------------
    Row("p1_2", case("during", S(0, 2, 8, flags=("fever",))), STOP, None, {},
        ("red_flag", "severe_pain", "during_over_limit"), "decision.stop.red_flag_rest_today"),
    Row("p1_3", case("during", S(0, 2, 4), flags=("trauma",)), STOP, None, {},
        ("red_flag", "during_over_limit"), "decision.stop.red_flag_rest_today"),
    Row("p1_4", case("recheck", S(-1, 2, 2, 1, 4, 3), flags=("knee_locking",)), STOP, None, {},
        ("red_flag", "recheck_above_reference"), "decision.stop.red_flag_same_day"),
    Row("p1_5", case("after", S(0, 2, 2, 3, flags=("heat_redness",))), STOP, None, {},
        ("red_flag", "not_settled"), "decision.stop.red_flag_rest_today"),
    Row("p1_6", case("before", *TREND, S(0, 2), flags=("cannot_bear_weight",)), STOP, None, {},
        ("red_flag", "trend_worse"), "decision.stop.red_flag_same_day"),
    Row("p1_7", case("next_morning", GOOD2, GOOD1, flags=("night_pain",)), STOP, None, {},
        ("red_flag", "limits_met"), "decision.stop.red_flag_rest_today"),
    Row("p1_8", case("after", S(0, 2, None, 1), flags=("numbness_weakness",)), STOP, None, {},
        ("red_flag", "missing_ratings"), "decision.stop.red_flag_same_day", {"missing": ("during",)}),
    Row("p1_9", case("next_morning", S(-1, 2, 2, 1, 4), flags=("inflammation",)), STOP, None, {},
        ("red_flag", "next_morning_above_reference"), "decision.stop.red_flag_rest_today", {"recheck": False}),
    Row("p2_3", case("during", S(0, 2, 9)), STOP, P, {P: 2}, ("severe_pain", "during_over_limit"),
        "decision.stop.severe_pain"),
    Row("p2_4", case("recheck", S(-1, 8, 2, 7, 9, 9)), STOP, None, {},
        ("severe_persists", "recheck_above_reference"), "decision.stop.severe_persists", {"pause": True}),
    Row("p2_5", case("after", S(0, 2, 2, 8)), STOP, P, {P: 2}, ("severe_pain", "not_settled"),
        "decision.stop.severe_pain"),
    Row("p2_6", case("after", *TREND, S(0, 8, 2, 7)), STOP, P, {P: 2}, ("severe_pain", "trend_worse"),
        "decision.stop.severe_pain"),
    Row("p2_8", case("after", S(0, None, 2, 7)), STOP, P, {P: 2}, ("severe_pain", "missing_ratings"),
        "decision.stop.severe_pain", {"missing": ("before",)}),
    Row("p2_9", case("next_morning", S(-1, 8, 2, 7, 9)), STOP, None, {},
        ("severe_persists", "next_morning_above_reference"), "decision.stop.severe_persists",
        {"recheck": False, "pause": True}),
    Row("p3_4", case("recheck", S(-1, 2, 4, 1, 4, 3)), BACK, P, {P: 2},
        ("during_over_limit", "recheck_above_reference"), "decision.step_back.during_pain"),
    Row("p3_5", case("after", S(0, 2, 4, 5)), BACK, P, {P: 2}, ("during_over_limit", "not_settled"),
        "decision.step_back.during_pain"),
    Row("p3_6", case("during", *TREND, S(-1, 2, 2, 1, 2), S(0, 2, 4)), BACK, P, {P: 2},
        ("during_over_limit", "trend_worse"), "decision.step_back.during_pain"),
    Row("p3_8", case("after", S(0, None, 4, 1)), BACK, P, {P: 2}, ("during_over_limit", "missing_ratings"),
        "decision.step_back.during_pain", {"missing": ("before",)}),
    Row("p3_9", case("next_morning", S(-1, 2, 4, 1, 4)), BACK, P, {P: 2},
        ("during_over_limit", "next_morning_above_reference"), "decision.step_back.during_pain",
        {"recheck": True}),
    Row("p4_5", case("recheck", S(-1, 2, 2, 3, 4, 3)), BACK, P, {P: 2}, ("recheck_above_reference",),
        "decision.step_back.recheck_high"),  # "not settled" is said right after only
    Row("p4_6", case("recheck", *TREND, S(-1, 2, 2, 1, 4, 3)), BACK, P, {P: 2},
        ("recheck_above_reference", "trend_worse"), "decision.step_back.recheck_high"),
    Row("p4_7", case("next_morning", GOOD2, S(-1, 2, 2, 1, 2, 3)), BACK, P, {P: 2},
        ("recheck_above_reference", "limits_met"), "decision.step_back.recheck_high"),
    Row("p4_8", case("recheck", S(-1, 2, None, 1, 4, 3)), BACK, P, {P: 2},
        ("recheck_above_reference", "missing_ratings"), "decision.step_back.recheck_high",
        {"missing": ("during",)}),
    Row("p4_9", case("next_morning", S(-1, 2, 2, 1, 4, 3)), BACK, P, {P: 2},
        ("recheck_above_reference", "next_morning_above_reference"), "decision.step_back.recheck_high",
        {"recheck": True}),
    Row("p5_6", case("after", *TREND, S(0, 2, 2, 3)), HOLD, None, {}, ("not_settled", "trend_worse"),
        "decision.hold.not_settled"),
    Row("p5_9", case("next_morning", S(-1, 2, 2, 3, 4)), HOLD, None, {},
        ("next_morning_above_reference",), "decision.hold.recheck_pending", {"recheck": True}),
    Row("p6_7", case("next_morning", *TREND, S(-1, 2, 2, 1, 2)), HOLD, None, {}, ("trend_worse", "limits_met"),
        "decision.hold.trend_worse"),
    Row("p6_8", case("next_morning", *TREND, S(-1, 2, None, 1, 2)), HOLD, None, {},
        ("trend_worse", "missing_ratings"), "decision.hold.trend_worse", {"missing": ("during",)}),
    Row("p6_9", case("next_morning", *TREND, S(-1, 2, 2, 1, 4)), HOLD, None, {},
        ("trend_worse", "next_morning_above_reference"), "decision.hold.trend_worse", {"recheck": True}),
    Row("p8_9", case("next_morning", S(-1, 2, None, 1, 4)), HOLD, None, {},
        ("missing_ratings", "next_morning_above_reference"), "decision.hold.missing",
        {"missing": ("during",), "recheck": True}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_worked_case(row: Row) -> None:
    d = decide(row.case)
    assert d.action is row.action
    assert d.element == row.element
    assert d.levels == {**row.case.levels, **row.levels}
    assert d.reasons == row.reasons
    assert d.message == row.message
    for name, value in row.extra.items():
        assert getattr(d, name) == value, name


def test_ids_unique() -> None:
    assert len({r.id for r in ROWS}) == len(ROWS)


def test_history_unchanged_unless_levels_change() -> None:
    for row in ROWS:
        d = decide(row.case)
        if d.element is None:
            assert d.raise_history == row.case.raise_history, row.id
            assert d.levels == dict(row.case.levels), row.id


@pytest.mark.parametrize(
    ("thresholds", "stage", "session", "message"),
    [
        (Thresholds(during_max=4), "during", S(0, 2, 4), "decision.hold.keep_going"),
        (Thresholds(severe=9), "during", S(0, 2, 8), "decision.step_back.during_pain"),
        (Thresholds(sessions_to_progress=1), "next_morning", GOOD1, "decision.progress"),
    ],
)
def test_thresholds_change_the_decision(thresholds: Thresholds, stage: str, session, message: str) -> None:
    assert decide(case(stage, session)).message != message
    assert decide(case(stage, session), thresholds).message == message


def test_fresh_sessions_after_a_raise() -> None:
    """After a raise, `sessions_to_progress` sessions at the new level are needed before the next one."""
    raised = S(-3, 2, 2, 1, 1, change="progress")
    assert decide(case("next_morning", raised, S(-2, 2, 2, 1, 1))).action is Action.HOLD
    assert decide(case("next_morning", raised, S(-2, 2, 2, 1, 1), GOOD1)).action is Action.PROGRESS


def test_sessions_older_than_history_days_do_not_count() -> None:
    old = S(-20, 2, 2, 1, 1)
    assert decide(case("next_morning", old, GOOD1)).reasons == ("needs_more_sessions",)
    assert decide(case("next_morning", old, GOOD1), Thresholds(history_days=30)).action is Action.PROGRESS


def test_stage_enum_complete() -> None:
    assert {Stage(s) for s in ("checkin", "before", "during", "after", "next_morning", "recheck")} == set(Stage)
