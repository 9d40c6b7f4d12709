"""Exercise programs: data the clinic edits (rules/programs/*.toml), not code.

A program lists a few gentle exercises and, for each dose element, its levels in Japanese
(level 1 = first entry; the element's max level = the number of entries).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from rules import tomlfile
from rules.types import ELEMENT_ORDER, Element

CONDITIONS: tuple[str, ...] = ("low_back", "knee", "both")


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str  # Japanese name, e.g. 大腿四頭筋セッティング
    how: str  # one-line Japanese instruction
    # the clinic's own picture / video instead of the drawn one (a file path or an http(s) URL; the bot
    # resolves it, rules only carries it): `picture = "..."`, `video = "..."` in the exercise's table
    picture: str | None = None
    video: str | None = None


@dataclass(frozen=True)
class Program:
    condition: str
    title: str
    exercises: tuple[Exercise, ...]
    names: Mapping[Element, str]  # display names: 可動域, 回数, 負荷, 速さ
    levels: Mapping[Element, tuple[str, ...]]  # level descriptions, level 1 first

    @property
    def max_levels(self) -> dict[Element, int]:
        return {e: len(self.levels[e]) for e in ELEMENT_ORDER}

    def element_name(self, element: Element | str) -> str:
        return self.names[Element(element)]

    def describe_level(self, element: Element, level: int) -> str:
        """The description of one level, e.g. describe_level(Element.REPS, 3) -> "10回×2セット"."""
        options = self.levels[Element(element)]
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= len(options):
            raise ValueError(f"{element}: level must be between 1 and {len(options)}, got {level!r}")
        return options[level - 1]

    def describe(self, levels: Mapping[Element, int]) -> list[str]:
        """One line per element, in ELEMENT_ORDER: "回数: 10回×2セット"."""
        return [f"{self.names[e]}: {self.describe_level(e, levels[e])}" for e in ELEMENT_ORDER]

    def clamp(self, levels: Mapping[Element, int]) -> dict[Element, int]:
        """Levels brought within 1..max (a missing element counts as level 1)."""
        maxima = self.max_levels
        return {e: min(max(int(levels.get(e, 1)), 1), maxima[e]) for e in ELEMENT_ORDER}

    @classmethod
    def from_toml(cls, text: str) -> Program:
        """Parse a program file (format in docs/rules.md). Raises ValueError naming the bad key."""
        return cls.from_mapping(tomlfile.parse(text))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Program:
        tomlfile.known_keys(data, ("condition", "title", "exercises", "elements"))
        exercises = tuple(_exercise(raw, i) for i, raw in enumerate(_list(data, "exercises")))
        if not exercises:
            raise ValueError("exercises: at least one exercise is needed")
        ids = [x.id for x in exercises]
        if len(set(ids)) != len(ids):
            raise ValueError("exercises: ids must be unique")
        elements = data.get("elements")
        if not isinstance(elements, dict):
            raise ValueError("elements: missing table")
        names, levels = {}, {}
        for key in elements:
            if key not in {e.value for e in ELEMENT_ORDER}:
                raise ValueError(f"elements.{key}: unknown element")
        for e in ELEMENT_ORDER:
            spec = elements.get(e.value)
            if not isinstance(spec, dict):
                raise ValueError(f"elements.{e.value}: missing table")
            tomlfile.known_keys(spec, ("name", "levels"), f"elements.{e.value}")
            names[e] = tomlfile.text(spec, "name", f"elements.{e.value}")
            options = _list(spec, "levels", f"elements.{e.value}")
            if not options or not all(isinstance(o, str) and o.strip() for o in options):
                raise ValueError(f"elements.{e.value}.levels: must be a non-empty list of texts")
            levels[e] = tuple(options)
        return cls(
            condition=tomlfile.text(data, "condition"),
            title=tomlfile.text(data, "title"),
            exercises=exercises,
            names=MappingProxyType(names),
            levels=MappingProxyType(levels),
        )


@cache
def load_program(condition: str) -> Program:
    """The clinic's program for `condition` (one of CONDITIONS), from rules/programs/<condition>.toml."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r} (expected one of {', '.join(CONDITIONS)})")
    text = resources.files(__name__).joinpath(f"{condition}.toml").read_text(encoding="utf-8")
    program = Program.from_toml(text)
    if program.condition != condition:
        raise ValueError(f"{condition}.toml: condition says {program.condition!r}")
    return program


def _exercise(raw: Any, i: int) -> Exercise:
    where = f"exercises[{i}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    tomlfile.known_keys(raw, ("id", "name", "how", "picture", "video"), where)
    id_, name, how = (tomlfile.text(raw, key, where) for key in ("id", "name", "how"))
    picture, video = (tomlfile.text(raw, key, where) if key in raw else None for key in ("picture", "video"))
    return Exercise(id=id_, name=name, how=how, picture=picture, video=video)


def _list(data: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{tomlfile.at(where, key)}: must be a list")
    return value
