"""The red-flag catalogue (rules/redflags.toml) and the symptom-phrase detector (rules.detect_symptoms)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from rules import URGENT_FLAGS, Flag, RedFlagError, RedFlags, Tier, decide, detect_symptoms, load_redflags
from rules.redflags import EMERGENCY_ITEMS, FLAG_ITEMS
from tests.rules.helpers import case

CORPUS = Path(__file__).parent / "symptom_corpus.tsv"
TEXT = resources.files("rules").joinpath("redflags.toml").read_text(encoding="utf-8")


def _corpus() -> list[tuple[str, frozenset[str]]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        text, _, items = line.partition("\t")
        rows.append((text, frozenset(i for i in items.split(",") if i)))
    return rows


CORPUS_ROWS = _corpus()


def _without(item_id: str) -> str:
    data = tomllib.loads(TEXT)
    data["items"] = [i for i in data["items"] if i["id"] != item_id]
    return data


# --- the catalogue --------------------------------------------------------------------------------

def test_the_clinics_catalogue_loads() -> None:
    cat = load_redflags()
    assert cat.version and load_redflags() is cat
    assert {i.tier for i in cat.items} == set(Tier)
    assert EMERGENCY_ITEMS == {i.id for i in cat.of_tier(Tier.EMERGENCY)}
    for item in cat.items:
        assert item.question == f"redflag.q.{item.id}"
        assert item.advice == f"redflag.advice.{item.tier}"
        assert item.label


def test_the_tiers_hold_the_clinic_methods_items() -> None:
    cat = load_redflags()
    tiers = {i.id: i.tier for i in cat.items}
    assert {k for k, v in tiers.items() if v is Tier.EMERGENCY} == {
        "saddle_numbness", "bladder_bowel", "leg_weakness_worsening", "chest_pain", "breathlessness", "faint_dizzy"}
    assert {"fever_back_pain", "fever_hot_knee", "fracture_risk", "cannot_bear_weight", "knee_locking",
            "rapid_worsening"} <= {k for k, v in tiers.items() if v is Tier.SAME_DAY}
    assert tiers["fever"] is Tier.REST_TODAY  # fever alone is a cold: rest today, not the emergency room
    assert {"swelling_heat", "minor_injury"} <= {k for k, v in tiers.items() if v is Tier.REST_TODAY}
    # 腰痛診療ガイドライン2019's red flags, and a knee screen
    assert len(cat.signup_screen("low_back")) == 9 and "back_onset_age" in {i.id for i in cat.signup_screen("low_back")}
    assert {i.id for i in cat.signup_screen("knee")} == {
        "knee_hot_swollen", "knee_no_weight", "knee_locks", "knee_recent_injury", "knee_fever"}
    assert len(cat.signup_screen("both")) == 14


def test_every_flag_stands_for_an_item_and_urgent_flags_are_the_emergency_ones() -> None:
    cat = load_redflags()
    assert set(FLAG_ITEMS) == set(Flag)
    assert {f for f in Flag if cat.item_of(f).tier is Tier.EMERGENCY} == URGENT_FLAGS
    assert cat.tier(["fever", "cannot_bear_weight"]) is Tier.SAME_DAY
    assert cat.tier([Flag.SADDLE_NUMBNESS, "fever"]) is Tier.EMERGENCY
    assert cat.tier([]) is None


def test_a_clinic_can_reword_and_add_items() -> None:
    data = tomllib.loads(TEXT)
    data["items"][0]["label"] = "言い換えたラベル"
    data["items"].append({"id": "calf_swelling", "tier": "same_day", "question": "redflag.q.calf_swelling",
                          "label": "ふくらはぎの片側の腫れ", "phrases": ["ふくらはぎが腫れ"]})
    cat = RedFlags.from_mapping(data)
    assert cat.items[0].label == "言い換えたラベル"
    assert cat["calf_swelling"].advice == "redflag.advice.same_day"
    assert "calf_swelling" in detect_symptoms("ふくらはぎが腫れています", cat)


@pytest.mark.parametrize("item_id", sorted(EMERGENCY_ITEMS))
def test_removing_an_emergency_item_fails_with_one_clear_error(item_id: str) -> None:
    with pytest.raises(RedFlagError) as info:
        RedFlags.from_mapping(_without(item_id))
    assert str(info.value) == (f"items: the emergency tier's items cannot be removed or demoted (removed {item_id})")


def test_demoting_an_emergency_item_fails() -> None:
    data = tomllib.loads(TEXT)
    next(i for i in data["items"] if i["id"] == "chest_pain")["tier"] = "same_day"
    with pytest.raises(RedFlagError, match="moved out of the emergency tier: chest_pain"):
        RedFlags.from_mapping(data)


def test_removing_an_item_a_check_in_button_stands_for_fails() -> None:
    with pytest.raises(RedFlagError, match="night_pain cannot be removed"):
        RedFlags.from_mapping(_without("night_pain"))


@pytest.mark.parametrize(("edit", "error"), [
    (lambda d: d.pop("version"), "version: must be a non-empty text"),
    (lambda d: d.update(extra=1), "extra: unknown key"),
    (lambda d: d["items"][0].update(colour="red"), r"items\[0\] \(saddle_numbness\).colour: unknown key"),
    (lambda d: d["items"][0].update(tier="soon"), r"items\[0\] \(saddle_numbness\).tier: must be one of"),
    (lambda d: d["items"][0].update(question="どうですか"), r"question: must be a messages.po key"),
    (lambda d: d["items"][0].update(label=""), r"label: must be a non-empty text"),
    (lambda d: d["items"][0].update(id="Bad Id"), r"items\[0\].id: must be lower-case"),
    (lambda d: d["items"].append(dict(d["items"][0])), "items: duplicate id saddle_numbness"),
    (lambda d: d["items"][0].update(phrases="しびれ"), r"phrases: must be a list"),
])
def test_bad_edits_are_refused_naming_the_key(edit, error) -> None:
    data = tomllib.loads(TEXT)
    edit(data)
    with pytest.raises(RedFlagError, match=error):
        RedFlags.from_mapping(data)


def test_invalid_toml_is_one_error() -> None:
    with pytest.raises(RedFlagError, match="invalid TOML"):
        RedFlags.from_toml("version = ")


def test_decisions_record_the_catalogue_version_and_tier() -> None:
    d = decide(case("checkin", flags=("fever_hot_knee",)))
    assert (d.tier, d.redflags_version, d.message) == ("same_day", load_redflags().version,
                                                       "decision.stop.red_flag_same_day")
    assert decide(case("checkin")).to_json()["redflags_version"] == load_redflags().version


# --- the detector ------------------------------------------------------------------------------------

def test_the_corpus_is_large_and_balanced() -> None:
    assert len(CORPUS_ROWS) >= 100
    positives = [r for r in CORPUS_ROWS if r[1]]
    assert len(positives) >= 50 and len(CORPUS_ROWS) - len(positives) >= 40
    found = set().union(*(items for _, items in CORPUS_ROWS))
    assert {i.id for i in load_redflags().items if i.phrases} <= found  # every item with phrases is exercised


@pytest.mark.parametrize(("text", "expected"), CORPUS_ROWS, ids=[r[0] for r in CORPUS_ROWS])
def test_corpus(text: str, expected: frozenset[str]) -> None:
    assert detect_symptoms(text) == expected


@pytest.mark.parametrize("word", ["息子", "便利", "郵便", "熱心"])
def test_the_issues_false_friends_never_fire(word: str) -> None:
    assert detect_symptoms(word) == frozenset()
    assert detect_symptoms(f"今日は{word}の話をしました") == frozenset()


def test_every_item_id_found_is_in_the_catalogue() -> None:
    cat = load_redflags()
    for text, _ in CORPUS_ROWS:
        assert all(i in cat for i in detect_symptoms(text))


def test_docs_clinical_lists_every_item_and_tier() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "clinical.md").read_text(encoding="utf-8")
    for item in load_redflags().items:
        assert f"| `{item.id}` | {item.tier} |" in doc, item.id
    for tier in Tier:
        assert f"| `{tier}` |" in doc


def test_every_scenario_in_docs_clinical_names_a_test_that_exists() -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "clinical.md").read_text(encoding="utf-8")
    names = re.findall(r"`(tests/[\w/]+\.py)::(\w+)(?:\[(\w+)\])?`", doc)
    assert len(names) >= 10
    for path, name, row in names:
        source = (root / path).read_text(encoding="utf-8")
        assert f"def {name}(" in source, f"{path}::{name}"
        if row:
            assert f'"{row}"' in source, f"{path}::{name}[{row}]"
