"""Outcome measures as data: each instrument is a TOML file in rules/outcomes/ (format in docs/outcomes.md).

Pure: reading and checking the files, the order in which a round asks them, scoring and the minimal clinically
important difference (MCID). Where answers are stored and how they are asked is bot/coaching/outcomes.py.

A round is asked at an *occasion*: `baseline` (at signup), `followup` (every 14 days) or `end` (the trial's last
day); an instrument lists the occasions it is asked at. An instrument is either a list of items answered with
buttons (at most 13 options each: LINE's quick replies), or, with `activities = N`, the Patient-Specific
Functional Scale's shape: the patient names up to N activities by typing (at the first round) and rates each
with the one item, whose text holds `{activity}`; later rounds rate the same activities again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rules import tomlfile

OCCASIONS: tuple[str, ...] = ("baseline", "followup", "end")
SCORINGS: tuple[str, ...] = ("single", "sum", "mean")
BETTER: tuple[str, ...] = ("lower", "higher")
MAX_OPTIONS = 13  # buttons under one message (LINE quick replies)
MAX_ACTIVITIES = 5
ACTIVITY = "{activity}"
KEYS = ("id", "version", "title", "short", "licence", "asked", "order", "scoring", "better", "range", "intro",
        "activities", "activity_question", "mcid", "items")


class OutcomeError(ValueError):
    """A malformed instrument file: the message names the file and the key."""


@dataclass(frozen=True)
class Option:
    value: int
    label: str  # the button's text


@dataclass(frozen=True)
class Item:
    id: str
    text: str  # the question (for an activities instrument: with {activity})
    options: tuple[Option, ...]

    def question(self, activity: str = "") -> str:
        return self.text.replace(ACTIVITY, activity)

    def label_of(self, value: int) -> str:
        return next((o.label for o in self.options if o.value == value), str(value))


@dataclass(frozen=True)
class Mcid:
    """What counts as a clinically important change: an improvement of at least `points` or of at least
    `percent` % of the baseline (either is enough); for an instrument of change itself (PGIC) the answers in
    `responders` are the important improvement."""

    points: float | None = None
    percent: float | None = None
    responders: tuple[int, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.points is not None:
            parts.append(f"{_num(self.points)}")
        if self.percent is not None:
            parts.append(f"{_num(self.percent)}%")
        return "/".join(parts)


@dataclass(frozen=True)
class Change:
    baseline: float
    now: float
    points: float  # now - baseline
    percent: float | None  # of the baseline; None when the baseline is 0
    improved: bool  # in the instrument's better direction
    important: bool  # the improvement reaches the MCID


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    title: str  # what the patient and the clinician read
    short: str  # a column's label in summaries and the export
    licence: str
    asked: tuple[str, ...]  # occasions
    order: int
    scoring: str
    better: str
    low: int
    high: int
    intro: str
    activities: int  # 0: a list of items; N: the patient names up to N activities and rates each
    activity_question: str
    mcid: Mcid
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    def score(self, answers: Sequence[int]) -> float | None:
        """The instrument's score from its answers (in asking order); None without answers."""
        if not answers:
            return None
        if self.scoring == "sum":
            return float(sum(answers))
        if self.scoring == "mean" or self.activities:
            return round(sum(answers) / len(answers), 1)
        return float(answers[0])

    def change(self, baseline: float | None, now: float | None) -> Change | None:
        """From baseline to now, with whether it is an improvement and passes the MCID."""
        if baseline is None or now is None:
            return None
        points = round(now - baseline, 1)
        gain = -points if self.better == "lower" else points
        percent = round(gain / abs(baseline) * 100) if baseline else None
        important = gain > 0 and (
            (self.mcid.points is not None and gain >= self.mcid.points)
            or (self.mcid.percent is not None and percent is not None and percent >= self.mcid.percent))
        return Change(baseline, now, points, percent, gain > 0, important)

    def responder(self, value: float | None) -> bool:
        """An instrument of change (PGIC): this answer is an important improvement."""
        return value is not None and int(value) in self.mcid.responders

    @classmethod
    def from_toml(cls, text: str, name: str = "") -> Instrument:
        """One instrument file; a malformed one raises OutcomeError naming the file and the key."""
        where = f"{name}: " if name else ""

        def error(message: str) -> OutcomeError:
            return OutcomeError(f"{where}{message}")

        return _instrument(tomlfile.parse(text, error), error)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _int(data: Mapping[str, Any], key: str, where: str, error: tomlfile.Error, lo: int = 0, hi: int = 1000) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise error(f"{tomlfile.at(where, key)}: must be a whole number from {lo} to {hi}")
    return value


def _instrument(data: Mapping[str, Any], error: tomlfile.Error) -> Instrument:
    tomlfile.known_keys(data, KEYS, "", error)
    def text(key: str) -> str:
        return tomlfile.text(data, key, "", error)

    asked = data.get("asked")
    if not isinstance(asked, list) or not asked or not all(a in OCCASIONS for a in asked):
        raise error(f"asked: must be a list of occasions ({', '.join(OCCASIONS)})")
    scoring, better = data.get("scoring", "single"), data.get("better")
    if scoring not in SCORINGS:
        raise error(f"scoring: must be one of {', '.join(SCORINGS)}")
    if better not in BETTER:
        raise error(f"better: must be one of {', '.join(BETTER)}")
    bounds = data.get("range")
    if (not isinstance(bounds, list) or len(bounds) != 2 or not all(isinstance(b, int) for b in bounds)
            or bounds[0] >= bounds[1]):
        raise error("range: must be [lowest, highest] score")
    activities = _int(data, "activities", "", error, 0, MAX_ACTIVITIES) if "activities" in data else 0
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise error("items: at least one [[items]] is needed")
    parsed = tuple(_item(raw, f"items[{i}]", error) for i, raw in enumerate(items))
    if len({i.id for i in parsed}) != len(parsed):
        raise error("items: ids must be unique")
    if activities and (len(parsed) != 1 or ACTIVITY not in parsed[0].text):
        raise error(f"items: an instrument with activities has one item whose text holds {ACTIVITY}")
    if activities and "activity_question" not in data:
        raise error("activity_question: must be a non-empty text (activities are named by typing)")
    return Instrument(
        id=_ident(text("id"), "id", error), version=_int(data, "version", "", error, 1, 10_000),
        title=text("title"), short=text("short"), licence=text("licence"),
        asked=tuple(asked), order=_int(data, "order", "", error) if "order" in data else 100,
        scoring=scoring, better=better, low=bounds[0], high=bounds[1],
        intro=tomlfile.text(data, "intro", "", error) if "intro" in data else "",
        activities=activities,
        activity_question=text("activity_question") if activities else "",
        mcid=_mcid(data.get("mcid", {}), error), items=parsed,
    )


def _ident(value: str, key: str, error: tomlfile.Error) -> str:
    if not (value.isascii() and value.replace("_", "").isalnum() and value[0].isalpha() and len(value) <= 24):
        raise error(f"{key}: letters, digits and _ only, at most 24, starting with a letter")
    return value


def _item(raw: Any, where: str, error: tomlfile.Error) -> Item:
    if not isinstance(raw, dict):
        raise error(f"{where}: must be a table")
    tomlfile.known_keys(raw, ("id", "text", "scale", "options"), where, error)
    item_id = _ident(tomlfile.text(raw, "id", where, error), f"{where}.id", error)
    text = tomlfile.text(raw, "text", where, error)
    if ("scale" in raw) == ("options" in raw):
        raise error(f"{where}: give either scale = [lowest, highest] or [[{where}.options]]")
    if "scale" in raw:
        scale = raw["scale"]
        if not isinstance(scale, list) or len(scale) != 2 or not all(isinstance(b, int) for b in scale) \
                or scale[0] >= scale[1]:
            raise error(f"{where}.scale: must be [lowest, highest]")
        options = tuple(Option(v, str(v)) for v in range(scale[0], scale[1] + 1))
    else:
        if not isinstance(raw["options"], list):
            raise error(f"{where}.options: must be a list of tables")
        options = tuple(_option(o, f"{where}.options[{i}]", error) for i, o in enumerate(raw["options"]))
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise error(f"{where}: between 2 and {MAX_OPTIONS} answer options (buttons under one message)")
    if len({o.value for o in options}) != len(options):
        raise error(f"{where}.options: values must be unique")
    if any(not 0 <= o.value <= 99 for o in options):
        raise error(f"{where}: answer values must be from 0 to 99")
    return Item(item_id, text, options)


def _option(raw: Any, where: str, error: tomlfile.Error) -> Option:
    if not isinstance(raw, dict):
        raise error(f"{where}: must be a table")
    tomlfile.known_keys(raw, ("value", "label"), where, error)
    return Option(_int(raw, "value", where, error, 0, 99), tomlfile.text(raw, "label", where, error))


def _mcid(raw: Any, error: tomlfile.Error) -> Mcid:
    if not isinstance(raw, dict):
        raise error("mcid: must be a table")
    tomlfile.known_keys(raw, ("points", "percent", "responders"), "mcid", error)
    for key in ("points", "percent"):
        if key in raw and (isinstance(raw[key], bool) or not isinstance(raw[key], int | float) or raw[key] <= 0):
            raise error(f"mcid.{key}: must be a positive number")
    responders = raw.get("responders", [])
    if not isinstance(responders, list) or not all(isinstance(v, int) for v in responders):
        raise error("mcid.responders: must be a list of answer values")
    return Mcid(raw.get("points"), raw.get("percent"), tuple(responders))


def from_files(files: Sequence[tuple[str, str]]) -> tuple[Instrument, ...]:
    """Instruments from (file name, text) pairs, in asking order; a malformed file, or two files with one id,
    raise OutcomeError naming the file."""
    found = [Instrument.from_toml(text, name) for name, text in sorted(files)]
    ids = [i.id for i in found]
    for dup in {x for x in ids if ids.count(x) > 1}:
        raise OutcomeError(f"two instrument files have id {dup!r}")
    return tuple(sorted(found, key=lambda i: (i.order, i.id)))


@cache
def load_instruments() -> tuple[Instrument, ...]:
    """The clinic's instruments (rules/outcomes/*.toml), in asking order."""
    return from_files([(f.name, f.read_text(encoding="utf-8")) for f in resources.files(__name__).iterdir()
                       if f.name.endswith(".toml")])


def instrument(instrument_id: str) -> Instrument | None:
    return next((i for i in load_instruments() if i.id == instrument_id), None)


def asked_at(occasion: str, instruments: Sequence[Instrument] | None = None) -> tuple[Instrument, ...]:
    return tuple(i for i in (instruments or load_instruments()) if occasion in i.asked)
