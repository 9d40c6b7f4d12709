"""decide(): every reply the coach gives. Pure and deterministic; docs/rules.md explains each rule.

The rules are checked in precedence order. Every rule that fires is listed in `Decision.reasons`;
the first one decides the action and the message. Then two guards apply to level changes:
once per session (`already_adjusted`) and never below level 1 (`step_back_at_minimum`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from rules.limits import Limit, during_limit, limits_broken
from rules.redflags import Tier, load_redflags
from rules.thresholds import Thresholds
from rules.types import (
    ELEMENT_ORDER,
    Action,
    Case,
    Decision,
    Element,
    SessionRecord,
    Stage,
)

# Ratings a stage expects: its own, and (from AFTER on) the session's earlier ones as the reference.
EXPECTED: dict[Stage, tuple[str, ...]] = {
    Stage.CHECKIN: (),
    Stage.BEFORE: ("before",),
    Stage.DURING: ("during",),
    Stage.AFTER: ("before", "during", "after"),
    Stage.NEXT_MORNING: ("before", "during", "after", "next_morning"),
    Stage.RECHECK: ("before", "during", "after", "recheck"),
}

# The HOLD message when no rule fired.
STAGE_MESSAGES: dict[Stage, str] = {
    Stage.CHECKIN: "decision.hold.checkin_ok",
    Stage.BEFORE: "decision.hold.start",
    Stage.DURING: "decision.hold.keep_going",
    Stage.AFTER: "decision.hold.await_next_morning",
    Stage.NEXT_MORNING: "decision.hold.morning_ok",
    Stage.RECHECK: "decision.hold.recheck_ok",
}
DEFAULT_MESSAGE = "decision.hold.default"
DEFAULT_THRESHOLDS = Thresholds()
# Limits judged on the session itself; a next-morning rise is judged with the 24-hour recheck (meets_limits).
SESSION_LIMITS = frozenset({Limit.DURING_OVER, Limit.SEVERE, Limit.NOT_SETTLED})


@dataclass(frozen=True)
class Finding:
    """A rule that fired: its reason id and what it asks for."""

    reason: str
    action: Action
    message: str
    alert: bool = False
    urgent: bool = False
    recheck: bool = False
    tier: Tier | None = None
    step_back: bool = False  # a STOP that also undoes the last raise (severe pain)
    unchanged: str | None = None  # the message when no level can change (at the minimum, already adjusted)
    ask_next_morning: bool = False
    pause: bool = False


Rule = Callable[[Case, SessionRecord | None, Thresholds], Finding | None]


# --- the rules, in precedence order -------------------------------------------------------------


# The STOP message of each red-flag tier (rules/redflags.toml; docs/clinical.md).
TIER_MESSAGES: dict[Tier, str] = {
    Tier.EMERGENCY: "decision.stop.red_flag_urgent",
    Tier.SAME_DAY: "decision.stop.red_flag_same_day",
    Tier.REST_TODAY: "decision.stop.red_flag_rest_today",
    Tier.SCREEN_BACK: "decision.stop.red_flag",
    Tier.SCREEN_KNEE: "decision.stop.red_flag",
}


def red_flag(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """1. A red flag now (or in this session): no exercise; the most urgent tier says where to go."""
    flags = case.flags | (s.flags if s is not None and case.stage is not Stage.CHECKIN else frozenset())
    tier = load_redflags().tier(flags)
    if tier is None:
        return None
    urgent = tier is Tier.EMERGENCY
    return Finding("red_flag", Action.STOP, TIER_MESSAGES[tier], alert=True, urgent=urgent, tier=tier)


def severe_pain(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """2. Severe pain during or right after: stop today, step back the last raise, ask again next morning."""
    if s is None or case.stage not in (Stage.DURING, Stage.AFTER) \
            or Limit.SEVERE not in limits_broken(s, t, case.ceiling):
        return None
    return Finding("severe_pain", Action.STOP, "decision.stop.severe_pain", alert=True, step_back=True,
                   unchanged="decision.stop.severe_pain_hold", ask_next_morning=True)


def severe_before(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """2b. Severe pain before exercise: no exercise today, asked again tomorrow. Twice in a row alerts the clinic,
    once: a third day and after say so again (phone the clinic) without a new alert, until a day that starts
    below severe begins a new run."""
    if s is None or case.stage is not Stage.BEFORE or not _severe(s.before, t):
        return None
    run = severe_before_run(case, t)
    if run == 2:
        return Finding("severe_before_twice", Action.STOP, "decision.stop.severe_before_twice", alert=True)
    if run > 2:
        return Finding("severe_before_twice", Action.STOP, "decision.stop.severe_before_again")
    return Finding("severe_before", Action.STOP, "decision.stop.severe_before")


def severe_persists(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """2c. Severe pain followed up and still high (>= severe, or >= usual pain + 2): the program pauses."""
    if s is None or _follow_up(case, s, t) is not True:
        return None
    return Finding("severe_persists", Action.STOP, "decision.stop.severe_persists", alert=True, pause=True)


def severe_morning(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """2d. Next morning >= severe after an ordinary session: alert, step back, ask again the next morning."""
    if s is None or case.stage is not Stage.NEXT_MORNING or not _severe(s.next_morning, t) \
            or Limit.SEVERE in limits_broken(s, t, case.ceiling):
        return None
    return Finding("severe_morning", Action.STEP_BACK, "decision.step_back.severe_morning", alert=True,
                   unchanged="decision.hold.severe_morning", ask_next_morning=True)


def severe_settled(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """2e. Severe pain followed up and lower now: no pause; the stepped-back level stays."""
    if s is None or _follow_up(case, s, t) is not False:
        return None
    return Finding("severe_settled", Action.HOLD, "decision.hold.severe_settled")


def during_over_limit(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """3. Pain during exercise above 0-3/10: the dose was too much."""
    if s is None or Limit.DURING_OVER not in limits_broken(s, t, case.ceiling):
        return None
    return Finding("during_over_limit", Action.STEP_BACK, "decision.step_back.during_pain")


def recheck_above_reference(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """4. A next-morning rise still there at the 24-hour recheck: the dose was too much."""
    if s is None or Limit.RECHECK_ABOVE not in limits_broken(s, t, case.ceiling):
        return None
    return Finding("recheck_above_reference", Action.STEP_BACK, "decision.step_back.recheck_high")


def not_settled(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """5. Right after exercise pain should settle or get lighter; higher than during and before: hold.
    Said at the stage it describes (right after), once; later stages no longer raise because of it."""
    if s is None or case.stage is not Stage.AFTER or Limit.NOT_SETTLED not in limits_broken(s, t, case.ceiling):
        return None
    return Finding("not_settled", Action.HOLD, "decision.hold.not_settled")


def trend_worse(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """6. Next-morning pain this week higher on average than the week before: hold."""
    if not _trend_worse(case, t):
        return None
    return Finding("trend_worse", Action.HOLD, "decision.hold.trend_worse")


def progress(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """7. Limits met, settled by the next morning (or recheck), over enough fresh sessions: raise one element."""
    if s is None or not _reference_ok(case.stage, s) or not meets_limits(s, t, case.ceiling):
        return None
    if case.usual_pain is not None and case.usual_pain >= t.usual_high and case.ceiling is None:
        return Finding("usual_pain_high", Action.HOLD, "decision.hold.ceiling_pending")
    if case.progression_held:
        return Finding("clinician_hold", Action.HOLD, "decision.hold.clinician_hold")
    if consecutive_within_limits(case, t) < t.sessions_to_progress:
        return Finding("needs_more_sessions", Action.HOLD, "decision.hold.one_more")
    if next_element(case) is None:
        return Finding("program_complete", Action.HOLD, "decision.hold.program_complete")
    return Finding("limits_met", Action.PROGRESS, "decision.progress")


def missing_ratings(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """8. A rating this stage needs is missing: hold, never progress on missing data."""
    if not missing(case):
        return None
    return Finding("missing_ratings", Action.HOLD, "decision.hold.missing")


def next_morning_above_reference(case: Case, s: SessionRecord | None, t: Thresholds) -> Finding | None:
    """9. Next morning higher than before exercise: not yet a step back; a 24-hour recheck decides."""
    if case.stage is not Stage.NEXT_MORNING or s is None \
            or Limit.MORNING_ABOVE not in limits_broken(s, t, case.ceiling):
        return None
    return Finding("next_morning_above_reference", Action.HOLD, "decision.hold.recheck_pending", recheck=True)


RULES: tuple[Rule, ...] = (
    red_flag,
    severe_pain,
    severe_before,
    severe_persists,
    severe_morning,
    severe_settled,
    during_over_limit,
    recheck_above_reference,
    not_settled,
    trend_worse,
    progress,
    missing_ratings,
    next_morning_above_reference,
)


# Every reason id and message key decide() can give (locales/ must have a text for each message key).
REASONS: tuple[str, ...] = (
    "red_flag", "severe_pain", "severe_before", "severe_before_twice", "severe_persists", "severe_morning",
    "severe_settled", "during_over_limit", "recheck_above_reference", "not_settled", "trend_worse",
    "usual_pain_high", "clinician_hold", "needs_more_sessions", "program_complete", "limits_met", "missing_ratings",
    "next_morning_above_reference",
    "already_adjusted", "step_back_at_minimum",
)
MESSAGE_KEYS: tuple[str, ...] = (
    "decision.stop.red_flag_urgent",
    "decision.stop.red_flag_same_day",
    "decision.stop.red_flag_rest_today",
    "decision.stop.red_flag",
    "decision.stop.severe_pain",
    "decision.stop.severe_pain_hold",
    "decision.stop.severe_before",
    "decision.stop.severe_before_twice",
    "decision.stop.severe_before_again",
    "decision.stop.severe_persists",
    "decision.step_back.severe_morning",
    "decision.hold.severe_morning",
    "decision.hold.severe_settled",
    "decision.hold.ceiling_pending",
    "decision.hold.clinician_hold",
    "decision.step_back.during_pain",
    "decision.step_back.recheck_high",
    "decision.hold.not_settled",
    "decision.hold.trend_worse",
    "decision.progress",
    "decision.hold.one_more",
    "decision.hold.program_complete",
    "decision.hold.missing",
    "decision.hold.recheck_pending",
    "decision.hold.start",
    "decision.hold.keep_going",
    "decision.hold.await_next_morning",
    "decision.hold.checkin_ok",
    "decision.hold.default",
    "decision.hold.already_adjusted",
    "decision.hold.at_minimum",
    "decision.hold.at_minimum_again",
    "decision.hold.already_adjusted_morning",
    "decision.hold.morning_ok",
    "decision.hold.recheck_ok",
)


# --- decide -------------------------------------------------------------------------------------


def decide(case: Case, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Decision:
    """The decision for `case`: same input, same output."""
    t = thresholds
    s = case.current
    rules = (red_flag,) if case.stage is Stage.CHECKIN else RULES  # a check-in only asks about red flags
    findings = [f for rule in rules if (f := rule(case, s, t)) is not None]
    reasons = [f.reason for f in findings]
    top = findings[0] if findings else Finding("", Action.HOLD, STAGE_MESSAGES.get(case.stage, DEFAULT_MESSAGE))
    action, message, alert = top.action, top.message, top.alert
    levels, history, element = dict(case.levels), case.raise_history, None

    lower = action is Action.STEP_BACK or top.step_back
    if (action is Action.PROGRESS or lower) and s is not None and s.level_change is not None:
        action = Action.STOP if action is Action.STOP else Action.HOLD
        message = top.unchanged or ("decision.hold.already_adjusted_morning"
                                    if case.stage in (Stage.NEXT_MORNING, Stage.RECHECK)
                                    else "decision.hold.already_adjusted")
        reasons.append("already_adjusted")
    elif action is Action.PROGRESS and (element := next_element(case)) is not None:
        levels[element] += 1
        history = (*history, element)
    elif lower:
        element = history[-1] if history else Element.REPS
        if levels[element] <= 1:
            action = Action.STOP if action is Action.STOP else Action.HOLD
            element = None
            message = top.unchanged or ("decision.hold.at_minimum_again" if case.minimum_alerted
                                        else "decision.hold.at_minimum")
            alert = alert or not case.minimum_alerted  # the clinic is told once, not every session
            reasons.append("step_back_at_minimum")
        else:
            levels[element] -= 1
            history = history[:-1]

    return Decision(
        action=action,
        element=element,
        levels=levels,
        raise_history=history,
        reasons=tuple(reasons),
        message=message,
        urgent=top.urgent,
        alert=alert,
        recheck=action is not Action.STOP and not top.ask_next_morning and any(f.recheck for f in findings),
        missing=missing(case),
        program_complete=top.reason == "program_complete",
        tier=None if top.tier is None else top.tier.value,
        redflags_version=load_redflags().version,
        limit=during_limit(s.before if s is not None else None, t, case.ceiling),
        ask_next_morning=top.ask_next_morning,
        pause=top.pause,
    )


# --- helpers ------------------------------------------------------------------------------------


def meets_limits(s: SessionRecord, t: Thresholds, ceiling: int | None = None) -> bool:
    """A session within the clinic's limits: all ratings in, no flags, not started in severe pain, during within
    the ceiling, settled, no 24 h rise."""
    if s.before is None or s.during is None or s.after is None or s.flags or _severe(s.before, t):
        return False
    if limits_broken(s, t, ceiling) & SESSION_LIMITS:
        return False
    return _le(s.next_morning, s.before) or _le(s.recheck, s.before)


def consecutive_within_limits(case: Case, t: Thresholds) -> int:
    """Sessions within limits counted back from the current one; stops at an earlier level change.

    A raise (or step back) must be tested by fresh sessions at the new level before the next raise.
    """
    count = 0
    oldest = case.today - dt.timedelta(days=t.history_days)
    for i, s in enumerate(reversed(case.sessions)):
        if i > 0 and (s.level_change is not None or s.date <= oldest):
            break
        if not meets_limits(s, t, case.ceiling):
            break
        count += 1
    return count


def next_element(case: Case) -> Element | None:
    """The element to raise: the next after the last raised (ROM first), cycling, skipping those at max."""
    start = ELEMENT_ORDER.index(case.raise_history[-1]) + 1 if case.raise_history else 0
    for i in range(len(ELEMENT_ORDER)):
        e = ELEMENT_ORDER[(start + i) % len(ELEMENT_ORDER)]
        if case.levels[e] < case.max_levels[e]:
            return e
    return None


def missing(case: Case) -> tuple[str, ...]:
    """The ratings this stage expects that the current session lacks."""
    s = case.current
    expected = EXPECTED[case.stage]
    return expected if s is None else tuple(name for name in expected if getattr(s, name) is None)


def trend_windows(case: Case, t: Thresholds = DEFAULT_THRESHOLDS) -> tuple[list[int], list[int]]:
    """The next-morning ratings of the week before, (today-2w, today-w], and of this week, (today-w, today]:
    what the week-to-week rule compares (and what its message quotes, as means)."""
    w = dt.timedelta(days=t.trend_window_days)
    recent = [s.next_morning for s in case.sessions if s.next_morning is not None and s.date > case.today - w]
    earlier = [s.next_morning for s in case.sessions
               if s.next_morning is not None and case.today - 2 * w < s.date <= case.today - w]
    return earlier, recent


def _trend_worse(case: Case, t: Thresholds) -> bool:
    """Mean next-morning rating of (today-w, today] above that of (today-2w, today-w]."""
    earlier, recent = trend_windows(case, t)
    if len(recent) < t.trend_min_ratings or len(earlier) < t.trend_min_ratings:
        return False
    return sum(recent) * len(earlier) > sum(earlier) * len(recent)  # mean(recent) > mean(earlier), exactly


def _reference_ok(stage: Stage, s: SessionRecord) -> bool:
    """Back to the pre-exercise reference: next morning (at NEXT_MORNING) or at the recheck (at RECHECK)."""
    if stage is Stage.NEXT_MORNING:
        return _le(s.next_morning, s.before)
    if stage is Stage.RECHECK:
        return _le(s.recheck, s.before)
    return False


def severe_before_run(case: Case, t: Thresholds) -> int:
    """How many sessions in a row, counted back from the current one, started at >= severe: sessions with a
    `before` rating within *history_days*; one that started below severe ends the run (a good day)."""
    oldest = case.today - dt.timedelta(days=t.history_days)
    run = 0
    for s in reversed(case.sessions):
        if s.before is None:
            continue  # started but not rated: neither a good nor a bad day
        if s.date <= oldest or not _severe(s.before, t):
            break
        run += 1
    return run


def _severe(rating: int | None, t: Thresholds) -> bool:
    return rating is not None and rating >= t.severe


def _follow_up(case: Case, s: SessionRecord, t: Thresholds) -> bool | None:
    """The answer that follows severe pain up: True if still high (>= severe, or >= usual pain + margin),
    False if lower, None if this answer is not such a follow-up. Followed up: during/after >= severe by the
    next morning; a next morning >= severe by the recheck (asked the morning after); and a recheck >= severe
    is itself still high (it follows a next-morning rise). When the patient exercised on the day of a severe
    morning, the next morning's rating of that session follows it up too (one question, not two)."""
    def high(r: int) -> bool:
        return _severe(r, t) or (case.usual_pain is not None and r >= case.usual_pain + t.usual_margin)

    if case.stage is Stage.NEXT_MORNING and s.next_morning is not None \
            and Limit.SEVERE in limits_broken(s, t, case.ceiling):
        return high(s.next_morning)
    previous = case.sessions[-2] if len(case.sessions) > 1 else None
    if case.stage is Stage.NEXT_MORNING and s.next_morning is not None and previous is not None \
            and _severe(previous.next_morning, t) and previous.recheck is None \
            and previous.date == s.date - dt.timedelta(days=1) and high(s.next_morning):
        return True  # a session done the day of a severe morning: its next morning follows that up too
    if case.stage is Stage.RECHECK and s.recheck is not None:
        if _severe(s.recheck, t):
            return True
        if _severe(s.next_morning, t):
            return high(s.recheck)
    return None


def _le(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and a <= b

