"""The red-flag catalogue: data the clinic edits (rules/redflags.toml), loaded and validated here.

Every item has a tier (the place it sends people), a patient-facing question and advice (keys into
locales/; the bot renders them) and a clinician-facing label. docs/clinical.md lists them with their sources.
A clinic's edit may reword or add items; it cannot remove or demote the emergency items, or the items today's
check-in flags (`rules.Flag`) stand for: loading fails with one `RedFlagError` naming them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from rules import tomlfile
from rules.types import Flag


class Tier(StrEnum):
    """Where a red flag sends the patient, most urgent first."""

    EMERGENCY = "emergency"  # stop; call 119 or go to an emergency department now
    SAME_DAY = "same_day"  # no exercise; see a doctor today
    REST_TODAY = "rest_today"  # no exercise today; tell the clinic; asked again tomorrow
    SCREEN_BACK = "screen_back"  # signup, low back (腰痛診療ガイドライン2019): evaluation before starting
    SCREEN_KNEE = "screen_knee"  # signup, knee: evaluation before starting


TIER_ORDER: tuple[Tier, ...] = tuple(Tier)  # most urgent first
SCREEN_TIERS: dict[str, tuple[Tier, ...]] = {  # the signup screen of each condition
    "low_back": (Tier.SCREEN_BACK,),
    "knee": (Tier.SCREEN_KNEE,),
    "both": (Tier.SCREEN_BACK, Tier.SCREEN_KNEE),
}

# The items in force when the catalogue was written: an edit may not remove or demote them.
EMERGENCY_ITEMS: frozenset[str] = frozenset(
    {"saddle_numbness", "bladder_bowel", "leg_weakness_worsening", "chest_pain", "breathlessness", "faint_dizzy"}
)
# Today's check-in and signup buttons (rules.Flag) stand for these items.
FLAG_ITEMS: Mapping[Flag, str] = MappingProxyType({
    Flag.INFLAMMATION: "swelling_heat",
    Flag.TRAUMA: "minor_injury",
    Flag.SWELLING: "swelling_heat",
    Flag.HEAT_REDNESS: "swelling_heat",
    Flag.FEVER: "fever",
    Flag.NUMBNESS_WEAKNESS: "numbness_weakness",
    Flag.BLADDER_BOWEL: "bladder_bowel",
    Flag.SADDLE_NUMBNESS: "saddle_numbness",
    Flag.CANNOT_BEAR_WEIGHT: "cannot_bear_weight",
    Flag.KNEE_LOCKING: "knee_locking",
    Flag.NIGHT_PAIN: "night_pain",
    Flag.CHEST_PAIN: "chest_pain",
    Flag.BREATHLESSNESS: "breathlessness",
    Flag.FAINT_DIZZY: "faint_dizzy",
    Flag.LEG_WEAKNESS_WORSENING: "leg_weakness_worsening",
    Flag.FEVER_BACK_PAIN: "fever_back_pain",
    Flag.FEVER_HOT_KNEE: "fever_hot_knee",
    Flag.FRACTURE_RISK: "fracture_risk",
    Flag.RAPID_WORSENING: "rapid_worsening",
})
# Catalogue item -> the flag it is recorded as (several flags share swelling_heat: the first is kept).
ITEM_FLAGS: Mapping[str, Flag] = MappingProxyType({i: f for f, i in reversed(list(FLAG_ITEMS.items()))})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_ITEM_KEYS = ("id", "tier", "question", "advice", "label", "phrases")


class RedFlagError(ValueError):
    """A catalogue that cannot be used; the message names what is wrong (one line)."""


@dataclass(frozen=True)
class RedFlagItem:
    id: str
    tier: Tier
    question: str  # messages.po key: the yes/no question
    advice: str  # messages.po key: what the patient is told on "yes"
    label: str  # what the clinician reads
    phrases: tuple[str, ...] = ()  # free-text words that suggest this item (rules.detect_symptoms)


@dataclass(frozen=True)
class RedFlags:
    """The catalogue: its version and items, in file order."""

    version: str
    items: tuple[RedFlagItem, ...]
    exclude: tuple[str, ...] = ()  # words blanked out before phrases are matched
    _by_id: dict[str, RedFlagItem] = field(init=False, repr=False, compare=False)  # from items

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {i.id: i for i in self.items})  # frozen: set once, here

    def __getitem__(self, item_id: str) -> RedFlagItem:
        return self._by_id[item_id]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def of_tier(self, *tiers: Tier) -> tuple[RedFlagItem, ...]:
        return tuple(i for i in self.items if i.tier in tiers)

    def signup_screen(self, condition: str) -> tuple[RedFlagItem, ...]:
        """The items signup asks about before the program starts, for `condition` (low_back, knee, both)."""
        if condition not in SCREEN_TIERS:
            raise ValueError(f"unknown condition {condition!r}")
        return self.of_tier(*SCREEN_TIERS[condition])

    def item_of(self, flag: str) -> RedFlagItem:
        """The item a reported flag stands for: a catalogue id, or one of today's `Flag` values."""
        if flag in self:
            return self[flag]
        return self[FLAG_ITEMS[Flag(flag)]]

    def tier(self, flags: Iterable[str]) -> Tier | None:
        """The most urgent tier among `flags` (None when there are none)."""
        tiers = {self.item_of(f).tier for f in flags}
        return next((t for t in TIER_ORDER if t in tiers), None)

    @classmethod
    def from_toml(cls, text: str) -> RedFlags:
        """Parse and validate a catalogue. Raises RedFlagError (a ValueError) with one clear line."""
        return cls.from_mapping(tomlfile.parse(text, RedFlagError))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RedFlags:
        tomlfile.known_keys(data, ("version", "exclude", "items"), error=RedFlagError)
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise RedFlagError("version: must be a non-empty text (raise it with every edit)")
        exclude = _texts(data.get("exclude", []), "exclude")
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise RedFlagError("items: must be a non-empty list of [[items]] tables")
        items = tuple(_item(raw, i) for i, raw in enumerate(raw_items))
        ids = [i.id for i in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise RedFlagError(f"items: duplicate id {', '.join(duplicates)}")
        by_id = {i.id: i for i in items}
        missing = sorted(EMERGENCY_ITEMS - set(by_id))
        demoted = sorted(i for i in EMERGENCY_ITEMS & set(by_id) if by_id[i].tier is not Tier.EMERGENCY)
        if missing or demoted:
            problems = ([f"removed {', '.join(missing)}"] if missing else []) + (
                [f"moved out of the emergency tier: {', '.join(demoted)}"] if demoted else [])
            raise RedFlagError(
                f"items: the emergency tier's items cannot be removed or demoted ({'; '.join(problems)})")
        needed = sorted(set(FLAG_ITEMS.values()) - set(by_id))
        if needed:
            raise RedFlagError(
                f"items: {', '.join(needed)} cannot be removed (today's check-in buttons stand for them)")
        return cls(version=version.strip(), items=items, exclude=exclude)


@cache
def load_redflags() -> RedFlags:
    """The clinic's catalogue, rules/redflags.toml."""
    text = resources.files("rules").joinpath("redflags.toml").read_text(encoding="utf-8")
    return RedFlags.from_toml(text)


def _item(raw: Any, i: int) -> RedFlagItem:
    where = f"items[{i}]"
    if not isinstance(raw, dict):
        raise RedFlagError(f"{where}: must be a table")
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        raise RedFlagError(f"{where}.id: must be lower-case letters, digits and _, got {item_id!r}")
    where = f"items[{i}] ({item_id})"
    tomlfile.known_keys(raw, _ITEM_KEYS, where, RedFlagError)
    try:
        tier = Tier(str(raw.get("tier")))
    except ValueError:
        raise RedFlagError(f"{where}.tier: must be one of {', '.join(TIER_ORDER)}, got {raw.get('tier')!r}") from None
    question = _key(raw.get("question"), f"{where}.question")
    advice = _key(raw.get("advice", f"redflag.advice.{tier.value}"), f"{where}.advice")
    label = tomlfile.text(raw, "label", where, RedFlagError)
    phrases = _texts(raw.get("phrases", []), f"{where}.phrases")
    return RedFlagItem(item_id, tier, question, advice, label.strip(), phrases)


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise RedFlagError(f"{where}: must be a messages.po key like redflag.q.fever, got {value!r}")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RedFlagError(f"{where}: must be a list of non-empty texts")
    return tuple(v.strip() for v in value)
