"""The clinic's limits for one session, and which of them a session broke.

One definition, used by the engine's rules (`rules/engine.py`) and read by the clinicians' weekly
summary (`bot/reports/summary.py`), so a summary never says something the coach did not decide on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from rules.thresholds import Thresholds


class Limit(StrEnum):
    """A limit of the clinic's method, in the order summaries list them."""

    DURING_OVER = "during_over"  # pain during exercise above during_limit()
    SEVERE = "severe"  # during or right after >= severe
    NOT_SETTLED = "not_settled"  # right after higher than both before and during
    MORNING_ABOVE = "morning_above"  # next morning above before exercise
    RECHECK_ABOVE = "recheck_above"  # the 24-hour recheck still above before exercise


LIMITS: tuple[Limit, ...] = tuple(Limit)


class Rated(Protocol):
    """A session's 0-10 ratings (None = not given): a SessionRecord, or a summary's row."""

    @property
    def before(self) -> int | None: ...
    @property
    def during(self) -> int | None: ...
    @property
    def after(self) -> int | None: ...
    @property
    def next_morning(self) -> int | None: ...
    @property
    def recheck(self) -> int | None: ...


def during_limit(before: int | None, t: Thresholds, ceiling: int | None = None) -> int:
    """The highest acceptable pain during exercise: the clinician's ceiling if set, else
    max(during_max, min(before, during_cap)) -- no worse than before the session, never above 5, 0-3 always
    acceptable (pain-monitoring model: Silbernagel 2007; Thomee 1997; NEMEX)."""
    if ceiling is not None:
        return ceiling
    return t.during_max if before is None else max(t.during_max, min(before, t.during_cap))


def limits_broken(s: Rated, t: Thresholds, ceiling: int | None = None) -> frozenset[Limit]:
    """The limits this session broke, judged on the ratings it has (a missing rating breaks nothing)."""
    broken = set()
    if _gt(s.during, during_limit(s.before, t, ceiling)):
        broken.add(Limit.DURING_OVER)
    if _ge(s.during, t.severe) or _ge(s.after, t.severe):
        broken.add(Limit.SEVERE)
    if _gt(s.after, s.during) and _gt(s.after, s.before):
        broken.add(Limit.NOT_SETTLED)
    if _gt(s.next_morning, s.before):
        broken.add(Limit.MORNING_ABOVE)
    if _gt(s.recheck, s.before):
        broken.add(Limit.RECHECK_ABOVE)
    return frozenset(broken)


def _gt(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and a > b


def _ge(a: int | None, b: int) -> bool:
    return a is not None and a >= b
