"""Short builders for cases: `S(-1, 2, 2, 1, 2)` is yesterday's session with before/during/after/next_morning."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rules import Action, Case, Element, SessionRecord, Stage

TODAY = dt.date(2026, 11, 25)
MAX = {Element.ROM: 3, Element.REPS: 5, Element.LOAD: 4, Element.SPEED: 3}
BASE = {Element.ROM: 2, Element.REPS: 3, Element.LOAD: 1, Element.SPEED: 1}
BASE_HISTORY = (Element.ROM, Element.REPS)
EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.json"))


def S(
    day: int,
    before: int | None = None,
    during: int | None = None,
    after: int | None = None,
    next_morning: int | None = None,
    recheck: int | None = None,
    flags: tuple[str, ...] = (),
    change: str | None = None,
) -> SessionRecord:
    return SessionRecord(
        date=TODAY + dt.timedelta(days=day),
        before=before,
        during=during,
        after=after,
        next_morning=next_morning,
        recheck=recheck,
        flags=frozenset(flags),
        level_change=None if change is None else Action(change),
    )


def case(
    stage: str,
    *sessions: SessionRecord,
    flags: tuple[str, ...] = (),
    levels: dict[Element, int] | None = None,
    history: tuple[Element, ...] = BASE_HISTORY,
    usual_pain: int | None = None,
    minimum_alerted: bool = False,
    ceiling: int | None = None,
) -> Case:
    return Case(
        today=TODAY,
        stage=Stage(stage),
        levels=dict(BASE if levels is None else levels),
        max_levels=dict(MAX),
        raise_history=history,
        sessions=sessions,
        flags=frozenset(flags),
        ceiling=ceiling,
        usual_pain=usual_pain,
        minimum_alerted=minimum_alerted,
    )


def load_example(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# Next-morning ratings worse this week (mean 2) than last week (mean 1); the older ones met their limits.
TREND = (S(-10, 2, 2, 1, 1), S(-8, 2, 2, 1, 1), S(-3, 2, 2, 1, 2), S(-2, 2, 2, 1, 2))
