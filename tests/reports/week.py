"""A generated clinic week (Mon 2026-12-07 .. Sun 12-13, Tokyo) with six patients, each showing one kind of
week; the expected numbers in test_summary.py are computed by hand from these rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.reports.summary import DecisionRow, FlagRow, PatientRow, Period, SessionRow

TZ = "Asia/Tokyo"
PERIOD = Period(date(2026, 12, 7), date(2026, 12, 13))
NOW = datetime(2026, 12, 13, 23, 0, tzinfo=UTC)  # Monday 12/14 08:00 Tokyo, when the summary goes out
ENROLLED = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
ONES = {"rom": 1, "reps": 1, "load": 1, "speed": 1}


def d(day: int, month: int = 12) -> date:
    return date(2026, month, day)


def at(day: int, hour: int = 0, month: int = 12) -> datetime:
    """Tokyo local `hour` on that day, as UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC) - timedelta(hours=9)


def done(pid: int, day: date, before, during, after, morning, status: str = "done") -> SessionRow:
    return SessionRow(pid, day, status, before, during, after, morning)


PATIENTS = [
    PatientRow(1, "はなこ", "knee", "trial", False, {**ONES, "rom": 2}, ENROLLED),  # good
    PatientRow(2, "たろう", "low_back", "trial", False, ONES, ENROLLED),  # two step-backs and a stop
    PatientRow(3, "よしこ", "low_back", "active", True, ONES, ENROLLED),  # urgent red flag
    PatientRow(4, "けんじ", "knee", "trial", False, ONES, ENROLLED),  # silent since Tuesday
    PatientRow(5, "さくら", "both", "trial", False, ONES, ENROLLED),  # next mornings getting worse
    PatientRow(6, "じろう", "knee", "active", False, ONES, ENROLLED,  # only two sessions this week
               falls_last_year=True, unsteady=True),  # and at risk of falling (signup)
]

SESSIONS = [
    # 1 はなこ: 6 done + 1 skipped this week, 3 done the week before
    done(1, d(1), 3, 3, 2, 2), done(1, d(3), 3, 3, 2, 2), done(1, d(5), 3, 3, 2, 2),
    done(1, d(7), 2, 2, 1, 2), done(1, d(8), 2, 3, 2, 2), done(1, d(9), 2, 2, 2, 1),
    done(1, d(10), 3, 2, 2, 2), done(1, d(11), 2, 1, 1, 1), done(1, d(12), 1, 2, 1, 1),
    done(1, d(13), None, None, None, None, "skipped"),
    # 2 たろう
    done(2, d(7), 2, 5, 3, 2), done(2, d(9), 2, 4, 5, 4), done(2, d(11), None, None, None, None, "missed"),
    done(2, d(12), 2, 8, None, None, "stopped"),
    # 3 よしこ
    done(3, d(8), 1, 2, 1, 1),
    # 4 けんじ: one session, then six missed days
    done(4, d(7), 2, 2, 2, 2),
    *[done(4, d(n), None, None, None, None, "missed") for n in range(8, 14)],
    # 5 さくら: next mornings 1, 2 the week before; 3, 4, 3 this week
    done(5, d(2), 2, 2, 1, 1), done(5, d(4), 2, 2, 1, 2),
    done(5, d(8), 2, 3, 2, 3), done(5, d(10), 2, 3, 2, 4), done(5, d(12), 2, 2, 2, 3),
    # 6 じろう: 4 the week before, 2 this week
    done(6, d(1), 2, 2, 1, 1), done(6, d(2), 2, 2, 1, 1), done(6, d(3), 2, 2, 1, 1), done(6, d(4), 2, 2, 1, 1),
    done(6, d(8), 2, 2, 1, 1), done(6, d(10), 2, 2, 1, 1), done(6, d(12), None, None, None, None, "skipped"),
]

DECISIONS = [
    DecisionRow(1, at(10, 7), "progress", "rom", ("limits_met",), "decision.progress", "next_morning"),
    DecisionRow(2, at(7, 9), "step_back", "reps", ("during_over_limit",), "decision.step_back.during_pain", "during"),
    DecisionRow(2, at(9, 9), "step_back", "rom", ("during_over_limit",), "decision.step_back.during_pain", "during"),
    DecisionRow(2, at(9, 10), "hold", None, ("not_settled",), "decision.hold.not_settled", "after"),
    DecisionRow(2, at(12, 9), "stop", None, ("severe_pain",), "decision.stop.severe_pain", "during"),
    DecisionRow(3, at(10, 12), "stop", None, ("red_flag",), "decision.stop.red_flag_urgent", "checkin"),
    DecisionRow(5, at(13, 7), "hold", None, ("trend_worse",), "decision.hold.trend_worse", "next_morning"),
]
FLAGS = [FlagRow(3, at(10, 12), ("bladder_bowel",), True)]
MISSED = {2: 2, 4: 6}
LAST_ANSWERS = {1: at(13, 7), 2: at(12, 9), 3: at(10, 12), 4: at(8, 7), 5: at(13, 7), 6: at(11, 7)}
