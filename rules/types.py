"""The vocabulary of the rules: enums, the Case a decision is taken on, and the Decision itself.

Everything here is immutable and validated on construction; `from_json`/`to_json` are the JSON forms
used by the CLI (`python -m rules decide`) and documented in docs/rules.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, cast

from rules.parsing import (
    CaseError,
    as_date,
    as_enum,
    as_level,
    as_list,
    as_object,
    as_rating,
    required,
    type_name,
)


class Element(StrEnum):
    """A dose element. Raised one at a time, in ELEMENT_ORDER."""

    ROM = "rom"
    REPS = "reps"
    LOAD = "load"
    SPEED = "speed"

    ORDER: ClassVar[tuple[Element, ...]]  # ELEMENT_ORDER, set below (not a member)


ELEMENT_ORDER: tuple[Element, ...] = (Element.ROM, Element.REPS, Element.LOAD, Element.SPEED)
Element.ORDER = ELEMENT_ORDER  # the same tuple, reachable from the enum


class Action(StrEnum):
    PROGRESS = "progress"
    HOLD = "hold"
    STEP_BACK = "step_back"
    STOP = "stop"


class Stage(StrEnum):
    """Which answer just arrived. CHECKIN is a red-flag check-in outside a rating."""

    CHECKIN = "checkin"
    BEFORE = "before"
    DURING = "during"
    AFTER = "after"
    NEXT_MORNING = "next_morning"
    RECHECK = "recheck"


class Flag(StrEnum):
    """Red flags: clinical evaluation first, no exercise."""

    INFLAMMATION = "inflammation"
    TRAUMA = "trauma"  # trauma or a fall
    SWELLING = "swelling"
    HEAT_REDNESS = "heat_redness"
    FEVER = "fever"
    NUMBNESS_WEAKNESS = "numbness_weakness"  # new numbness or weakness
    BLADDER_BOWEL = "bladder_bowel"
    SADDLE_NUMBNESS = "saddle_numbness"
    CANNOT_BEAR_WEIGHT = "cannot_bear_weight"
    KNEE_LOCKING = "knee_locking"
    NIGHT_PAIN = "night_pain"  # relentless night pain
    # Emergency signs during exercise (ACSM) and a worsening neurological deficit.
    CHEST_PAIN = "chest_pain"
    BREATHLESSNESS = "breathlessness"
    FAINT_DIZZY = "faint_dizzy"
    LEG_WEAKNESS_WORSENING = "leg_weakness_worsening"
    # Same-day signs: fever with back pain (infection) or with a hot, red, swollen knee (septic joint), a possible
    # fracture (osteoporosis or long-term steroids, after a fall or small strain), pain or swelling rapidly worse.
    FEVER_BACK_PAIN = "fever_back_pain"
    FEVER_HOT_KNEE = "fever_hot_knee"
    FRACTURE_RISK = "fracture_risk"
    RAPID_WORSENING = "rapid_worsening"


# The emergency tier's flags (their catalogue items are in the emergency tier): possible cauda equina
# syndrome, and chest pain, breathlessness, fainting or worsening leg weakness.
URGENT_FLAGS: frozenset[Flag] = frozenset({Flag.BLADDER_BOWEL, Flag.SADDLE_NUMBNESS, Flag.CHEST_PAIN,
                                          Flag.BREATHLESSNESS, Flag.FAINT_DIZZY, Flag.LEG_WEAKNESS_WORSENING})
# The check-in menu, in two steps so that no message has more than LINE's 13 quick replies: first a group
# ("which kind"), then its signs. Every flag is in exactly one group (tests/rules/test_api.py).
MENU_GROUPS: Mapping[str, tuple[Flag, ...]] = MappingProxyType({
    "sudden": (Flag.CHEST_PAIN, Flag.BREATHLESSNESS, Flag.FAINT_DIZZY),  # the body, suddenly (exercise)
    "nerves": (Flag.LEG_WEAKNESS_WORSENING, Flag.NUMBNESS_WEAKNESS, Flag.SADDLE_NUMBNESS, Flag.BLADDER_BOWEL),
    "heat": (Flag.FEVER_HOT_KNEE, Flag.FEVER_BACK_PAIN, Flag.FEVER, Flag.SWELLING, Flag.HEAT_REDNESS,
             Flag.INFLAMMATION, Flag.RAPID_WORSENING),  # with fever first: same day, fever alone: rest today
    "injury": (Flag.TRAUMA, Flag.FRACTURE_RISK, Flag.CANNOT_BEAR_WEIGHT, Flag.KNEE_LOCKING, Flag.NIGHT_PAIN),
})
# Flags with a button in the check-in menu: every one, group by group.
MENU_FLAGS: tuple[Flag, ...] = tuple(f for group in MENU_GROUPS.values() for f in group)

_ELEMENT_KEYS = tuple(e.value for e in ELEMENT_ORDER)
RATINGS: tuple[str, ...] = ("before", "during", "after", "next_morning", "recheck")
LEVEL_CHANGES: tuple[Action, ...] = (Action.PROGRESS, Action.STEP_BACK)


def _flags(values: Any, path: str) -> frozenset[Flag | str]:
    """Reported red flags: today's `Flag` values, or ids of the red-flag catalogue (rules/redflags.toml)."""
    return frozenset(_flag(v, f"{path}[{i}]") for i, v in enumerate(as_list(values, path)))


def _flag(value: Any, path: str) -> Flag | str:
    if value in Flag.__members__.values():
        return Flag(value)
    from rules.redflags import load_redflags  # the catalogue imports this module

    if isinstance(value, str) and value in load_redflags():
        return value
    raise CaseError(path, f"unknown flag {json.dumps(value, ensure_ascii=False, default=str)} "
                          "(expected a rules.Flag value or a red-flag catalogue id)")


def _levels(values: Any, path: str, maxima: Mapping[Element, int] | None) -> dict[Element, int]:
    """All four elements, in ELEMENT_ORDER; each within 1..max (or >= 1 when maxima is None)."""
    obj = as_object(values, path, _ELEMENT_KEYS)
    keys = {str(k): v for k, v in obj.items()}
    out = {}
    for e in ELEMENT_ORDER:
        value = required(keys, e.value, path)
        out[e] = as_level(value, f"{path}.{e.value}", None if maxima is None else maxima[e])
    return out


@dataclass(frozen=True)
class SessionRecord:
    """One done exercise session and its 0-10 pain ratings (None = not given)."""

    date: dt.date
    before: int | None = None
    during: int | None = None
    after: int | None = None
    next_morning: int | None = None
    recheck: int | None = None
    flags: frozenset[Flag | str] = frozenset()
    level_change: Action | None = None  # PROGRESS or STEP_BACK if one was applied because of this session

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", as_date(self.date, "date"))
        for name in RATINGS:
            as_rating(getattr(self, name), name)
        object.__setattr__(self, "flags", _flags(list(self.flags), "flags"))
        if self.level_change is not None:
            change = as_enum(Action, self.level_change, "level_change", "level change")
            if change not in LEVEL_CHANGES:
                raise CaseError("level_change", f"must be progress, step_back or null, got {change.value!r}")
            object.__setattr__(self, "level_change", change)

    @classmethod
    def from_json(cls, obj: Any) -> SessionRecord:
        """A session from JSON; rating keys, `flags` and `level_change` are optional. Raises CaseError."""
        allowed = ("date", *RATINGS, "flags", "level_change")
        obj = as_object(obj, "", allowed)
        ratings = {name: as_rating(obj.get(name), name) for name in RATINGS}
        return cls(
            date=as_date(required(obj, "date"), "date"),
            flags=_flags(obj.get("flags", []), "flags"),
            level_change=obj.get("level_change"),
            **ratings,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            **{name: getattr(self, name) for name in RATINGS},
            "flags": sorted(str(f) for f in self.flags),
            "level_change": None if self.level_change is None else self.level_change.value,
        }


@dataclass(frozen=True)
class Case:
    """Everything decide() looks at. `sessions[-1]` is the current session (none at a bare CHECKIN)."""

    today: dt.date
    stage: Stage
    levels: Mapping[Element, int]
    max_levels: Mapping[Element, int]
    raise_history: tuple[Element, ...] = ()  # raised and still in force, oldest first
    sessions: tuple[SessionRecord, ...] = ()  # done sessions of the last 14 days, oldest first
    flags: frozenset[Flag | str] = frozenset()  # red flags reported right now (Flag values or catalogue ids)
    ceiling: int | None = None  # the clinician's pain ceiling during exercise (2-6); None: the formula
    usual_pain: int | None = None  # the patient's usual pain (0-10, asked at signup); None: not known
    minimum_alerted: bool = False  # the clinic was told the dose is at its minimum (no level change since)
    progression_held: bool = False  # a clinician holds progression: no raise (step backs still apply)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        as_rating(self.usual_pain, "usual_pain")
        if not isinstance(self.minimum_alerted, bool):
            raise CaseError("minimum_alerted", f"must be true or false, got "
                                               f"{json.dumps(self.minimum_alerted, default=str)}")
        if not isinstance(self.progression_held, bool):
            raise CaseError("progression_held", f"must be true or false, got "
                                                f"{json.dumps(self.progression_held, default=str)}")
        if self.ceiling is not None and (isinstance(self.ceiling, bool) or not isinstance(self.ceiling, int)
                                         or not CEILING_MIN <= self.ceiling <= CEILING_MAX):
            raise CaseError("ceiling", f"must be an integer {CEILING_MIN}-{CEILING_MAX} or null, got "
                                       f"{json.dumps(self.ceiling, default=str)}")
        set_(self, "today", as_date(self.today, "today"))
        set_(self, "stage", as_enum(Stage, self.stage, "stage", "stage"))
        maxima = _levels(self.max_levels, "max_levels", None)
        set_(self, "max_levels", maxima)
        set_(self, "levels", _levels(self.levels, "levels", maxima))
        history = as_list(self.raise_history, "raise_history")
        set_(self, "raise_history", tuple(as_enum(Element, e, f"raise_history[{i}]", "element")
                                          for i, e in enumerate(history)))
        set_(self, "flags", _flags(list(self.flags), "flags"))
        set_(self, "sessions", tuple(self.sessions))
        previous: dt.date | None = None
        for i, s in enumerate(self.sessions):
            if not isinstance(s, SessionRecord):
                raise CaseError(f"sessions[{i}]", "must be a SessionRecord")
            if s.date > self.today:
                raise CaseError(f"sessions[{i}].date", f"{s.date} is after today ({self.today})")
            if previous is not None and s.date < previous:
                raise CaseError(f"sessions[{i}].date", "sessions must be oldest first")
            previous = s.date

    @property
    def current(self) -> SessionRecord | None:
        """The session being decided (the last one), if any."""
        return self.sessions[-1] if self.sessions else None

    @classmethod
    def from_json(cls, obj: Any) -> Case:
        """Parse and validate a case (the `decide` CLI's input). Raises CaseError naming the field.

        `max_levels` may be left out when `condition` names a program; `thresholds` and `schema` are accepted
        and ignored here (see `rules.request.parse_request`).
        """
        if not isinstance(obj, Mapping):
            raise CaseError("case", f"must be an object, got {type_name(obj)}")
        as_object(obj, "", _CASE_FIELDS)
        today = as_date(required(obj, "today"), "today")
        stage = as_enum(Stage, required(obj, "stage"), "stage", "stage")
        levels = as_object(required(obj, "levels"), "levels", _ELEMENT_KEYS)
        max_levels = _max_levels(obj)
        raise_history = tuple(as_list(obj.get("raise_history", []), "raise_history"))
        flags = _flags(obj.get("flags", []), "flags")
        sessions = []
        for i, raw in enumerate(as_list(required(obj, "sessions"), "sessions")):
            try:
                sessions.append(SessionRecord.from_json(raw))
            except CaseError as err:
                raise err.under(f"sessions[{i}]") from None
        # JSON maps (string keys) as given: __post_init__ validates them and converts them to Element keys
        return cls(today, stage, cast("Mapping[Element, int]", levels), cast("Mapping[Element, int]", max_levels),
                   raise_history, tuple(sessions), flags, obj.get("ceiling"),
                   as_rating(obj.get("usual_pain"), "usual_pain"), obj.get("minimum_alerted", False),
                   obj.get("progression_held", False))

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "stage": self.stage.value,
            "levels": {e.value: self.levels[e] for e in ELEMENT_ORDER},
            "max_levels": {e.value: self.max_levels[e] for e in ELEMENT_ORDER},
            "raise_history": [e.value for e in self.raise_history],
            "flags": sorted(str(f) for f in self.flags),
            "sessions": [s.to_json() for s in self.sessions],
            "ceiling": self.ceiling,
            "usual_pain": self.usual_pain,
            "minimum_alerted": self.minimum_alerted,
            "progression_held": self.progression_held,
        }


_CASE_FIELDS = ("schema", "today", "stage", "condition", "levels", "max_levels", "raise_history", "flags",
                "sessions", "thresholds", "ceiling", "usual_pain", "minimum_alerted", "progression_held")
CEILING_MIN, CEILING_MAX = 2, 6  # a clinician-set ceiling


def _max_levels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """`max_levels` as given, else those of the program named by `condition`."""
    if "max_levels" in obj:
        return as_object(obj["max_levels"], "max_levels", _ELEMENT_KEYS)
    if "condition" not in obj:
        raise CaseError("max_levels", "missing field (give max_levels or condition)")
    from rules.programs import CONDITIONS, load_program  # programs import this module

    condition = obj["condition"]
    if condition not in CONDITIONS:
        raise CaseError("condition", f"unknown condition {condition!r} (expected one of {', '.join(CONDITIONS)})")
    return {e.value: n for e, n in load_program(condition).max_levels.items()}


@dataclass(frozen=True)
class Decision:
    """What the coach does next, and why. `message` is a key into locales/."""

    action: Action
    element: Element | None  # the element changed, if any
    levels: dict[Element, int]  # next levels
    raise_history: tuple[Element, ...]  # next raise history
    reasons: tuple[str, ...]  # every rule that fired, in precedence order
    message: str
    urgent: bool = False
    alert: bool = False  # clinicians must be alerted
    recheck: bool = False  # schedule a 24-hour recheck
    missing: tuple[str, ...] = ()
    program_complete: bool = False
    tier: str | None = None  # the red-flag tier that stopped (rules.redflags.Tier), else None
    redflags_version: str = ""  # the red-flag catalogue's version this decision was taken with
    limit: int = 3  # the pain-during limit the decision used (rules.limits.during_limit)
    ask_next_morning: bool = False  # severe pain: ask again the next morning (even though today stopped)
    pause: bool = False  # severe pain stayed high: the program pauses; the patient contacts the clinic

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "levels":
                value = {e.value: value[e] for e in ELEMENT_ORDER}
            elif isinstance(value, tuple):
                value = [str(v) for v in value]
            elif isinstance(value, StrEnum):
                value = value.value
            out[f.name] = value
        return out
