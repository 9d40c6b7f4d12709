"""The weekly summary as numbers: pure computation from rows (no database, no Telegram).

Definitions (docs/clinicians.md repeats them for clinicians):
- The week is 7 local days `start..end`; the previous week is the 7 days before it.
- planned = days with a session row in the week (a reminder was sent or the patient started on their
  own), whatever became of it (planned/started/done/skipped/missed/stopped); done = status `done`.
- "6 sessions in 2 weeks" = `done` sessions in the 14 days ending on `end` >= 6.
- Ratings: per rating (before / during / after / next morning), the mean and the worst (highest) of the
  week's sessions, and the change of the mean from the previous week (None when either week has none).
- Limits (per session of the week, with the clinic's thresholds) are the rules' own (rules.limits_broken):
  pain during > during_max; during or after >= severe; after above both before and during (not settled);
  next morning above before; the 24-hour recheck above before.
- Decisions listed: raises, step-backs, stops, and holds for a reason (not settled, worse trend, waiting
  for the 24-hour recheck, cannot step back below level 1); routine holds are not listed.
- Needs attention (first, in this order, each with one line of why; issue 10 §4):
  a red flag not yet acknowledged (「対応しました」 on its alert; a week's red flag with no alert row counts),
  paused for severe pain (the newest stop was `severe_persists`), a patient's question unanswered (the
  question relay), at the minimum level (a hold because the dose cannot go lower), a stop, two or more
  step-backs, falling adherence (at least FALLING_BY fewer sessions done than the week before, down to fewer
  than FALLING_BELOW a week; in the current week, at the pace of the days gone by), no answer for
  3 days (not for paused patients), a worse trend (next-morning mean up from the previous week with at least
  `trend_min_ratings` ratings in each, or a `trend_worse` decision).
- Watch: not needing attention, but a limit was broken or fewer than 3 sessions were done this week.
- Per patient also: baseline -> now of the outcome measures (rules/outcomes: change and MCID), sessions done and
  planned since the start, 運動前後の痛みの変化 (before - after, averaged over the week's sessions with both:
  positive means pain eased after exercise; a rough bedside sign, not a measurement), what was raised this
  week, the trial's days left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from rules import LIMITS as RULE_LIMITS
from rules import Thresholds, limits_broken

RATINGS = ("before", "during", "after", "next_morning")
LIMITS = tuple(str(limit) for limit in RULE_LIMITS)  # rules.Limit values: the rules define what a limit is
ATTENTION = ("red_flag", "paused_severe", "question", "at_minimum", "stopped", "step_backs", "adherence",
             "no_answer", "worsening")
TARGET_SESSIONS, TARGET_DAYS = 6, 14
WEEKLY_MINIMUM = 3  # fewer done sessions in a week -> "watch"
FALLING_BY = 2  # this many fewer sessions done than the week before: falling adherence ...
FALLING_BELOW = 4  # ... down to fewer than this many a week
AT_MINIMUM = ("decision.hold.at_minimum", "decision.hold.at_minimum_again")
NO_ANSWER_DAYS = 3
TIERS = ("attention", "watch", "good")
R = TypeVar("R", "SessionRow", "DecisionRow", "FlagRow")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def week_of(cls, day: date) -> Period:
        """The ISO week (Monday..Sunday) containing `day`."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

    @classmethod
    def iso(cls, year: int, week: int) -> Period:
        return cls.week_of(date.fromisocalendar(year, week, 1))

    @classmethod
    def ending(cls, last: date) -> Period:
        return cls(last - timedelta(days=6), last)

    @property
    def previous(self) -> Period:
        return Period(self.start - timedelta(days=7), self.start - timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[start 00:00, end+1 00:00) in `tz`, as UTC instants."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
        return lo, hi

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class PatientRow:
    id: int
    nickname: str
    condition: str
    status: str
    paused: bool
    levels: dict[str, int]
    enrolled_at: datetime
    clinician_id: int | None = None
    trial_ends_on: date | None = None
    falls_last_year: bool = False  # fall risk, asked at signup (issue 9)
    unsteady: bool = False

    @classmethod
    def from_tuple(cls, row: tuple) -> PatientRow:
        pid, nickname, condition, status, paused, rom, reps, load, speed, enrolled_at, clinician_id, ends, falls, \
            unsteady = row
        return cls(pid, nickname, condition, status, bool(paused),
                   {"rom": rom, "reps": reps, "load": load, "speed": speed}, _utc(enrolled_at), clinician_id, ends,
                   bool(falls), bool(unsteady))


@dataclass(frozen=True)
class Extras:
    """What a summary needs beyond the week's rows (bot/reports/build.py reads it for all patients at once)."""

    outcomes: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # id -> (baseline, now)
    done_total: int = 0  # sessions done since the start (up to the week's end)
    planned_total: int = 0
    flag_alerts: int = 0  # red-flag alerts of the last weeks
    flag_alerts_open: int = 0  # ... of which nobody pressed 「対応しました」
    paused_severe: bool = False  # the newest stop paused them for severe pain that persisted
    questions: int = 0  # questions to the clinic still unanswered (the question relay)


@dataclass(frozen=True)
class SessionRow:
    patient_id: int
    day: date
    status: str
    before: int | None = None
    during: int | None = None
    after: int | None = None
    next_morning: int | None = None
    recheck: int | None = None


@dataclass(frozen=True)
class DecisionRow:
    patient_id: int
    at: datetime
    action: str
    element: str | None
    reasons: tuple[str, ...]
    message: str
    stage: str = ""

    @classmethod
    def from_tuple(cls, row: tuple) -> DecisionRow:
        pid, at, action, element, reasons, message, stage = row
        return cls(pid, _utc(at), action, element, tuple(reasons or ()), message, stage)

    @property
    def kind(self) -> str:
        """raise / step_back / stop / hold"""
        return "raise" if self.action == "progress" else self.action


@dataclass(frozen=True)
class FlagRow:
    patient_id: int
    at: datetime
    flags: tuple[str, ...]
    urgent: bool

    @classmethod
    def from_tuple(cls, row: tuple) -> FlagRow:
        pid, at, flags, urgent = row
        return cls(pid, _utc(at), tuple(flags or ()), bool(urgent))


@dataclass(frozen=True)
class RatingStats:
    n: int
    mean: float | None
    worst: int | None
    prev_n: int
    prev_mean: float | None

    @property
    def change(self) -> float | None:
        if self.mean is None or self.prev_mean is None:
            return None
        return round(self.mean - self.prev_mean, 1)


@dataclass
class PatientSummary:
    patient: PatientRow
    planned: int
    done: int
    done_14: int
    ratings: dict[str, RatingStats]
    limit_sessions: int  # sessions of the week that broke at least one limit
    limits: Counter[str]
    decisions: list[DecisionRow]
    red_flags: list[FlagRow]
    missed_prompts: int
    last_answer_at: datetime | None
    days_without_answer: int | None
    attention: tuple[str, ...] = ()
    tier: str = "good"
    urgent: bool = False
    counts: Counter[str] = field(default_factory=Counter)  # raise / hold / step_back / stop
    extras: Extras = field(default_factory=Extras)
    prev_done: int = 0  # sessions done the week before
    eased: float | None = None  # 運動前後の痛みの変化: mean of (before - after); positive: eased after exercise
    eased_n: int = 0
    trial_days_left: int | None = None
    week_days: int = 7  # days of the week gone by when summarised (fewer for the current week)

    @property
    def met_target(self) -> bool:
        return self.done_14 >= TARGET_SESSIONS

    @property
    def adherence(self) -> float | None:
        return self.done / self.planned if self.planned else None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def broken_limits(row: SessionRow, th: Thresholds) -> list[str]:
    """Which limits one session broke (LIMITS order), as the rules define them (rules.limits_broken)."""
    broken = limits_broken(row, th)
    return [str(limit) for limit in RULE_LIMITS if limit in broken]


def summarise(period: Period, patients: list[PatientRow], sessions: list[SessionRow],
              decisions: list[DecisionRow], flags: list[FlagRow], missed: dict[int, int],
              last_answers: dict[int, datetime], *, now: datetime, tz: str,
              thresholds: Thresholds | None = None, extras: dict[int, Extras] | None = None) -> list[PatientSummary]:
    """One PatientSummary per patient, attention first (most serious reason first), then watch, then good.

    `sessions` must cover the 14 days ending on period.end; `decisions` and `flags` the period only;
    `now` is when the summary is made (for a past week, its end is used for "no answer for 3 days").
    """
    th = thresholds or Thresholds()
    _, period_end = period.bounds(tz)
    reference = min(_utc(now), period_end)
    sessions_by, decisions_by, flags_by = _by_patient(sessions), _by_patient(decisions), _by_patient(flags)
    more = extras or {}
    elapsed = min(max((reference.astimezone(ZoneInfo(tz)).date() - period.start).days, 1), 7)
    out = [summarise_patient(period, p, sessions_by.get(p.id, []), decisions_by.get(p.id, []),
                             flags_by.get(p.id, []), missed.get(p.id, 0), last_answers.get(p.id),
                             reference=reference, th=th, extras=more.get(p.id, Extras()), elapsed=elapsed)
           for p in patients]
    out.sort(key=_order)
    return out


def summarise_patient(period: Period, p: PatientRow, rows: list[SessionRow], decs: list[DecisionRow],
                      pflags: list[FlagRow], missed: int, last: datetime | None, *, reference: datetime,
                      th: Thresholds, extras: Extras | None = None, elapsed: int = 7) -> PatientSummary:
    """One patient's week: `rows` are their sessions of the 14 days ending on period.end, `decs` and `pflags`
    their decisions and red flags of the week, `last` their newest answer."""
    week = [r for r in rows if r.day in period]
    previous = [r for r in rows if r.day in period.previous]
    limit_sessions, limits = count_limits(week, th)
    s = PatientSummary(
        patient=p, planned=len(week), done=sum(r.status == "done" for r in week),
        done_14=done_in_two_weeks(rows, period.end), ratings=rating_stats(week, previous),
        limit_sessions=limit_sessions, limits=limits, decisions=decs, red_flags=pflags, missed_prompts=missed,
        last_answer_at=last, days_without_answer=days_silent(last, p.enrolled_at, reference),
        counts=Counter(d.kind for d in decs), urgent=is_urgent(pflags, decs), extras=extras or Extras(),
        prev_done=sum(r.status == "done" for r in previous), trial_days_left=days_left(p, period.end),
        week_days=elapsed,
    )
    s.eased, s.eased_n = before_after(week)
    s.attention = attention(s, th)
    s.tier = tier(s)
    return s


def rating_stats(week: list[SessionRow], previous: list[SessionRow]) -> dict[str, RatingStats]:
    """Per rating: this week's count, mean and worst, and last week's count and mean."""
    out = {}
    for name in RATINGS:
        cur = [v for r in week if (v := getattr(r, name)) is not None]
        old = [v for r in previous if (v := getattr(r, name)) is not None]
        out[name] = RatingStats(len(cur), _mean(cur), max(cur) if cur else None, len(old), _mean(old))
    return out


def count_limits(week: list[SessionRow], th: Thresholds) -> tuple[int, Counter[str]]:
    """How many sessions broke at least one limit, and how often each limit was broken."""
    limits: Counter[str] = Counter()
    limit_sessions = 0
    for r in week:
        broken = broken_limits(r, th)
        limit_sessions += bool(broken)
        limits.update(broken)
    return limit_sessions, limits


def done_in_two_weeks(rows: list[SessionRow], end: date) -> int:
    first = end - timedelta(days=TARGET_DAYS - 1)
    return sum(r.status == "done" and first <= r.day <= end for r in rows)


def before_after(week: list[SessionRow]) -> tuple[float | None, int]:
    """運動前後の痛みの変化: the mean of (before - after) over the sessions with both, and how many there were.
    Positive means pain eased after exercise: a rough bedside sign, not a measurement of hypoalgesia."""
    diffs = [r.before - r.after for r in week if r.before is not None and r.after is not None]
    return _mean(diffs), len(diffs)


def days_left(p: PatientRow, end: date) -> int | None:
    """Days of the trial left after the week's end (None once the patient chose to continue, or ended)."""
    if p.status != "trial" or p.trial_ends_on is None:
        return None
    return max((p.trial_ends_on - end).days, 0)


def days_silent(last: datetime | None, enrolled_at: datetime, reference: datetime) -> int:
    """Whole days from the newest answer (or enrolment) to `reference`."""
    since = _utc(last) if last is not None else enrolled_at
    return max((reference - since).days, 0) if since <= reference else 0


def _red_flag_stop(d: DecisionRow) -> bool:
    return d.action == "stop" and "red_flag" in d.reasons


def is_urgent(flags: list[FlagRow], decisions: list[DecisionRow]) -> bool:
    return any(f.urgent for f in flags) or any(_red_flag_stop(d) and _urgent_decision(d) for d in decisions)


def worsening(s: PatientSummary, th: Thresholds) -> bool:
    """Next-morning mean up from last week, with enough ratings in each; or a `trend_worse` decision."""
    nm = s.ratings["next_morning"]
    trend = nm.change is not None and nm.change > 0 and min(nm.n, nm.prev_n) >= th.trend_min_ratings
    return trend or any("trend_worse" in d.reasons for d in s.decisions)


def red_flag_open(s: PatientSummary) -> bool:
    """A red flag nobody acknowledged yet: an alert without 「対応しました」, or a red flag of the week whose
    alerts (if any were recorded) are not all acknowledged."""
    this_week = bool(s.red_flags) or any(_red_flag_stop(d) for d in s.decisions)
    x = s.extras
    return x.flag_alerts_open > 0 or (this_week and not (x.flag_alerts and not x.flag_alerts_open))


def falling_adherence(s: PatientSummary) -> bool:
    """At least FALLING_BY sessions fewer than the week before (for the current week, than its pace by now), down
    to a pace below FALLING_BELOW a week (7 -> 5 is still a good week)."""
    return s.prev_done * s.week_days / 7 - s.done >= FALLING_BY and s.done * 7 / s.week_days < FALLING_BELOW


def at_minimum(s: PatientSummary) -> bool:
    return any(d.message in AT_MINIMUM or "step_back_at_minimum" in d.reasons for d in s.decisions)


def attention(s: PatientSummary, th: Thresholds) -> tuple[str, ...]:
    """Why this patient needs attention, in ATTENTION order (empty: they do not)."""
    checks = {
        "red_flag": red_flag_open(s),
        "paused_severe": s.patient.paused and s.extras.paused_severe,
        "question": s.extras.questions > 0,
        "at_minimum": at_minimum(s),
        "stopped": s.counts["stop"] > 0,
        "step_backs": s.counts["step_back"] >= 2,
        "adherence": falling_adherence(s),
        "no_answer": not s.patient.paused and (s.days_without_answer or 0) >= NO_ANSWER_DAYS,
        "worsening": worsening(s, th),
    }
    return tuple(reason for reason in ATTENTION if checks[reason])


def tier(s: PatientSummary) -> str:
    if s.attention:
        return "attention"
    if s.limit_sessions or s.done < WEEKLY_MINIMUM:
        return "watch"
    return "good"


def _by_patient(rows: list[R]) -> dict[int, list[R]]:
    out: dict[int, list[R]] = {}
    for row in rows:
        out.setdefault(row.patient_id, []).append(row)
    return out


def _urgent_decision(d: DecisionRow) -> bool:
    return d.message == "decision.stop.red_flag_urgent"


def _order(s: PatientSummary) -> tuple:
    first = ATTENTION.index(s.attention[0]) if s.attention else len(ATTENTION)
    return (TIERS.index(s.tier), not s.urgent, first, -len(s.attention), s.patient.id)

