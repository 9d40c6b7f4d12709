"""Exercise programs: data the clinic edits (rules/programs/*.toml), not code.

A program lists a few gentle exercises. Each exercise has its own ladder: the dose elements that apply
to it (a stretch has no speed, a squeeze has no range) and, for each, its levels in Japanese (level 1
first). The patient's levels are one counter per element (`Case.levels`): an exercise is at
`min(counter, its own top)` of each element it has, so raising an element by one raises it by one level
in every exercise where it applies and is not yet at its top, and a step back lowers it likewise. An
element's max level is the highest top among the exercises that have it (1 when none has it), so a
counter never sits above every exercise's top and every step back lowers a dose (docs/rules.md).

The program-wide form of earlier files (`[elements.<e>] levels = [...]`, every exercise on the same
ladders) is still read: an exercise without its own ladder gets those levels for all four elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from rules import tomlfile
from rules.types import ELEMENT_ORDER, Element

CONDITIONS: tuple[str, ...] = ("low_back", "knee", "both")
# The elements' names when the file does not name them (one term per concept: locales/ glossary).
DEFAULT_NAMES: Mapping[Element, str] = MappingProxyType(
    {Element.ROM: "動かす範囲", Element.REPS: "回数", Element.LOAD: "強さ", Element.SPEED: "速さ"})
# The parts of an exercise's instructions, in the order they are read (the new form's `how`).
STEPS: tuple[str, ...] = ("start", "move", "breath", "stop")


@dataclass(frozen=True)
class Supported:
    """The supported variant of a standing exercise, for a patient at risk of falling: its own starting
    position and movement (more support: both hands on a table, a chair behind; or lying instead)."""

    start: str
    move: str


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str  # Japanese name, e.g. タオルつぶし
    how: str  # the whole instruction: start + move + breath + stop (new form), or the old one-line `how`
    # the clinic's own picture / video instead of the drawn one (a file path or an http(s) URL; the bot
    # resolves it, rules only carries it): `picture = "..."`, `video = "..."` in the exercise's table
    picture: str | None = None
    video: str | None = None
    # its ladder: the elements that apply to it, each with its levels (level 1 first)
    ladder: Mapping[Element, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # element names for this exercise (e.g. 保つ時間 for hold seconds)
    labels: Mapping[Element, str] = field(default_factory=lambda: MappingProxyType({}))
    start: str = ""  # starting position
    move: str = ""  # the movement
    breath: str = ""  # breathing cue
    stop: str = ""  # when to stop
    standing: bool = False  # done standing (fingertip support; a supported variant for fall risk)
    supported: Supported | None = None

    def top(self, element: Element) -> int:
        """The number of levels of `element` in this exercise (0 when it does not apply)."""
        return len(self.ladder.get(element, ()))

    def level(self, levels: Mapping[Element, int], element: Element) -> int | None:
        """This exercise's level of `element` at the patient's levels (the counter capped at its top)."""
        top = self.top(element)
        return min(max(int(levels.get(element, 1)), 1), top) if top else None


@dataclass(frozen=True)
class Change:
    """What one decision changed in one exercise: 「いすからの立ち上がり：回数 8回 → 10回」."""

    exercise: Exercise
    element: Element
    name: str  # the element's name for this exercise (回数, 保つ時間, ...)
    before: str
    after: str


@dataclass(frozen=True)
class Program:
    condition: str
    title: str
    exercises: tuple[Exercise, ...]
    names: Mapping[Element, str]  # display names: 動かす範囲, 回数, 強さ, 速さ

    @property
    def elements(self) -> tuple[Element, ...]:
        """The elements at least one exercise has, in ELEMENT_ORDER (the others stay at level 1 = their max)."""
        return tuple(e for e in ELEMENT_ORDER if any(x.top(e) for x in self.exercises))

    @property
    def max_levels(self) -> dict[Element, int]:
        """Each element's max: the highest top among the exercises that have it (1 when none has it)."""
        return {e: max([x.top(e) for x in self.exercises] + [1]) for e in ELEMENT_ORDER}

    def element_name(self, element: Element | str, exercise_id: str | None = None) -> str:
        """The element's name, as this exercise calls it when it has its own (e.g. 保つ時間)."""
        e = Element(element)
        if exercise_id is not None:
            return self.exercise(exercise_id).labels.get(e, self.names[e])
        return self.names[e]

    def exercise(self, exercise_id: str) -> Exercise:
        for x in self.exercises:
            if x.id == exercise_id:
                return x
        raise KeyError(f"{self.condition}: no exercise {exercise_id!r}")

    def dose_parts(self, levels: Mapping[Element, int], exercise_id: str) -> list[tuple[Element, str]]:
        """Today's level text of each element of this exercise, in ELEMENT_ORDER."""
        x = self.exercise(exercise_id)
        return [(e, x.ladder[e][n - 1]) for e in ELEMENT_ORDER if (n := x.level(levels, e)) is not None]

    def dose(self, levels: Mapping[Element, int], exercise_id: str) -> str:
        """Today's dose of one exercise, its level texts joined: "10回・ゆっくり（4秒で1回）"."""
        return "・".join(text for _, text in self.dose_parts(levels, exercise_id))

    def describe(self, levels: Mapping[Element, int]) -> list[str]:
        """One line per exercise: "いすからの立ち上がり: 10回・高めのいす"."""
        return [f"{x.name}: {self.dose(levels, x.id)}" for x in self.exercises]

    def changes(self, before: Mapping[Element, int], after: Mapping[Element, int]) -> tuple[Change, ...]:
        """What changed between two levels, exercise by exercise (program order), element by element."""
        out = []
        for x in self.exercises:
            for e in ELEMENT_ORDER:
                old, new = x.level(before, e), x.level(after, e)
                if old is not None and new is not None and old != new:
                    out.append(Change(x, e, self.element_name(e, x.id), x.ladder[e][old - 1], x.ladder[e][new - 1]))
        return tuple(out)

    def clamp(self, levels: Mapping[Element, int]) -> dict[Element, int]:
        """Levels brought within 1..max (a missing element counts as level 1): a counter above every
        exercise's top (levels kept from an earlier program file) comes down to the highest top."""
        maxima = self.max_levels
        return {e: min(max(int(levels.get(e, 1)), 1), maxima[e]) for e in ELEMENT_ORDER}

    def supported(self) -> Program:
        """The program for a patient at risk of falling: each standing exercise in its supported variant."""
        def variant(x: Exercise) -> Exercise:
            if x.supported is None:
                return x
            start, move = x.supported.start, x.supported.move
            return replace(x, start=start, move=move, how=_how(start, move, x.breath, x.stop), supported=None)
        return replace(self, exercises=tuple(variant(x) for x in self.exercises))

    @classmethod
    def from_toml(cls, text: str) -> Program:
        """Parse a program file (format in docs/rules.md). Raises ValueError naming the bad key."""
        return cls.from_mapping(tomlfile.parse(text))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Program:
        tomlfile.known_keys(data, ("condition", "title", "exercises", "elements"))
        elements = data.get("elements", {})
        if not isinstance(elements, dict):
            raise ValueError("elements: must be a table")
        for key in elements:
            if key not in {e.value for e in ELEMENT_ORDER}:
                raise ValueError(f"elements.{key}: unknown element")
        names: dict[Element, str] = {}
        shared: dict[Element, tuple[str, ...]] = {}  # the program-wide ladders of the old form
        for e in ELEMENT_ORDER:
            spec = elements.get(e.value, {})
            where = f"elements.{e.value}"
            if not isinstance(spec, dict):
                raise ValueError(f"{where}: must be a table")
            tomlfile.known_keys(spec, ("name", "levels"), where)
            names[e] = tomlfile.text(spec, "name", where) if "name" in spec else DEFAULT_NAMES[e]
            if "levels" in spec:
                shared[e] = _levels(spec, "levels", where)
        if shared and len(shared) != len(ELEMENT_ORDER):
            missing = ", ".join(e.value for e in ELEMENT_ORDER if e not in shared)
            raise ValueError(f"elements: the program-wide form needs levels for all four elements (missing {missing})")
        exercises = tuple(_exercise(raw, i, shared) for i, raw in enumerate(_list(data, "exercises")))
        if not exercises:
            raise ValueError("exercises: at least one exercise is needed")
        ids = [x.id for x in exercises]
        if len(set(ids)) != len(ids):
            raise ValueError("exercises: ids must be unique")
        return cls(
            condition=tomlfile.text(data, "condition"),
            title=tomlfile.text(data, "title"),
            exercises=exercises,
            names=MappingProxyType(names),
        )


def load_program(condition: str, supported: bool = False) -> Program:
    """The clinic's program for `condition` (one of CONDITIONS), from rules/programs/<condition>.toml;
    `supported`: the variant for a patient at risk of falling (Program.supported). Read once."""
    return _load(condition, bool(supported))


@cache
def _load(condition: str, supported: bool) -> Program:
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r} (expected one of {', '.join(CONDITIONS)})")
    if supported:
        return _load(condition, False).supported()
    text = resources.files(__name__).joinpath(f"{condition}.toml").read_text(encoding="utf-8")
    program = Program.from_toml(text)
    if program.condition != condition:
        raise ValueError(f"{condition}.toml: condition says {program.condition!r}")
    return program


EXERCISE_KEYS = ("id", "name", "how", "picture", "video", "ladder", *STEPS, "standing", "supported")


def _exercise(raw: Any, i: int, shared: Mapping[Element, tuple[str, ...]]) -> Exercise:
    where = f"exercises[{i}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    tomlfile.known_keys(raw, EXERCISE_KEYS, where)
    id_, name = (tomlfile.text(raw, key, where) for key in ("id", "name"))
    picture, video = (tomlfile.text(raw, key, where) if key in raw else None for key in ("picture", "video"))
    steps = {key: tomlfile.text(raw, key, where) for key in STEPS if key in raw}
    if steps and len(steps) != len(STEPS):
        missing = ", ".join(key for key in STEPS if key not in steps)
        raise ValueError(f"{where}: an exercise's steps are {', '.join(STEPS)} (missing {missing})")
    if steps and "how" in raw:
        raise ValueError(f"{where}.how: give either how or {', '.join(STEPS)}, not both")
    if not steps and "how" not in raw:
        raise ValueError(f"{where}: its instructions are missing (give {', '.join(STEPS)})")
    how = _how(*(steps[key] for key in STEPS)) if steps else tomlfile.text(raw, "how", where)
    ladder, labels = _ladder(raw, where, shared)
    standing = raw.get("standing", False)
    if not isinstance(standing, bool):
        raise ValueError(f"{where}.standing: must be true or false")
    supported = _supported(raw["supported"], f"{where}.supported") if "supported" in raw else None
    return Exercise(id=id_, name=name, how=how, picture=picture, video=video, ladder=ladder, labels=labels,
                    start=steps.get("start", ""), move=steps.get("move", ""), breath=steps.get("breath", ""),
                    stop=steps.get("stop", ""), standing=standing, supported=supported)


def _ladder(raw: Mapping[str, Any], where: str, shared: Mapping[Element, tuple[str, ...]],
            ) -> tuple[Mapping[Element, tuple[str, ...]], Mapping[Element, str]]:
    """The exercise's own ladder (`[exercises.ladder]`: `reps = [...]`, or `[exercises.ladder.load]` with
    `name` and `levels`), else the program-wide levels of the old form."""
    if "ladder" not in raw:
        if not shared:
            raise ValueError(f"{where}.ladder: missing (the elements that apply to this exercise and their levels)")
        return MappingProxyType(dict(shared)), MappingProxyType({})
    spec = raw["ladder"]
    here = f"{where}.ladder"
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f"{here}: must be a table naming at least one element")
    tomlfile.known_keys(spec, tuple(e.value for e in ELEMENT_ORDER), here)
    ladder: dict[Element, tuple[str, ...]] = {}
    labels: dict[Element, str] = {}
    for e in ELEMENT_ORDER:
        if e.value not in spec:
            continue
        value = spec[e.value]
        if isinstance(value, dict):
            tomlfile.known_keys(value, ("name", "levels"), f"{here}.{e.value}")
            if "name" in value:
                labels[e] = tomlfile.text(value, "name", f"{here}.{e.value}")
            ladder[e] = _levels(value, "levels", f"{here}.{e.value}")
        else:
            ladder[e] = _levels(spec, e.value, here)
    return MappingProxyType(ladder), MappingProxyType(labels)


def _supported(raw: Any, where: str) -> Supported:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    tomlfile.known_keys(raw, ("start", "move"), where)
    return Supported(start=tomlfile.text(raw, "start", where), move=tomlfile.text(raw, "move", where))


def _levels(spec: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    options = _list(spec, key, where)
    if not options or not all(isinstance(o, str) and o.strip() for o in options):
        raise ValueError(f"{tomlfile.at(where, key)}: must be a non-empty list of texts")
    if len(set(options)) != len(options):
        raise ValueError(f"{tomlfile.at(where, key)}: two levels say the same")
    return tuple(options)


def _how(*steps: str) -> str:
    return "".join(steps)


def _list(data: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{tomlfile.at(where, key)}: must be a list")
    return value
