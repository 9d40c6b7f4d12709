"""The numbers the rules use. Clinics may override them in TOML (see docs/rules.md, "Thresholds")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from rules import tomlfile


class ThresholdError(ValueError):
    """A bad threshold: `key` names it, `problem` says what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Thresholds:
    during_max: int = 3  # pain during exercise 0..during_max is always acceptable /10
    during_cap: int = 5  # ...and up to min(before, during_cap) when the patient started higher (no ceiling set)
    severe: int = 7  # pain >= severe: stop today's session (before: no exercise today), followed up next morning
    usual_high: int = 6  # usual pain >= this: progression held until a clinician sets the patient's ceiling
    usual_margin: int = 2  # severe pain followed up: next morning >= usual pain + this (or >= severe) pauses
    sessions_to_progress: int = 2  # consecutive sessions within limits before a raise
    trend_window_days: int = 7  # the week-to-week trend compares two windows this long
    trend_min_ratings: int = 2  # next-morning ratings each window needs for the trend rule to apply
    history_days: int = 14  # sessions older than this are not looked at

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ThresholdError(f.name, f"must be an integer, got {value!r}")
        checks = (
            ("during_max", 0 <= self.during_max < self.severe, "must be at least 0 and below severe"),
            ("during_cap", self.during_max <= self.during_cap < self.severe,
             "must be at least during_max and below severe"),
            ("severe", self.during_max < self.severe <= 10, "must be above during_max and at most 10"),
            ("usual_high", 1 <= self.usual_high <= 10, "must be 1-10"),
            ("usual_margin", 1 <= self.usual_margin <= 10, "must be 1-10"),
            ("sessions_to_progress", self.sessions_to_progress >= 1, "must be at least 1"),
            ("trend_window_days", self.trend_window_days >= 1, "must be at least 1"),
            ("trend_min_ratings", self.trend_min_ratings >= 1, "must be at least 1"),
            ("history_days", self.history_days >= 2 * self.trend_window_days,
             "must cover two trend windows (at least 2 x trend_window_days)"),
        )
        for key, ok, problem in checks:
            if not ok:
                raise ThresholdError(key, f"{problem}, got {getattr(self, key)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Thresholds:
        """Defaults overridden by `values`. Unknown key or bad value -> ThresholdError (a ValueError) naming the key."""
        if not isinstance(values, Mapping):
            raise ThresholdError("thresholds", f"must be a table/object, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        for key in values:
            if key not in known:  # a name that is not printable is shown quoted (one line in any message)
                name = key if isinstance(key, str) and key.isprintable() else repr(key)
                raise ThresholdError(name, f"unknown threshold (expected one of {', '.join(sorted(known))})")
        return replace(cls(), **values)

    @classmethod
    def from_toml(cls, text: str) -> Thresholds:
        """Top-level keys (`during_max = 3`), or the same keys under a `[thresholds]` table."""
        data = tomlfile.parse(text, lambda message: ThresholdError("thresholds", message))
        if set(data) == {"thresholds"} and isinstance(data["thresholds"], dict):
            data = data["thresholds"]
        return cls.from_mapping(data)

    def to_json(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
