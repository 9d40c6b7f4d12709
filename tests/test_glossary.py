"""Every patient text uses the glossary's terms and fits its length budget (locales/ja/glossary.toml).

Patient texts: every message of locales/ja/LC_MESSAGES/messages.po except the clinicians' (`staff_only`), and
every text of rules/programs/*.toml (title, exercise names and instructions, element names and levels).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.i18n import LOCALES, catalog
from rules import CONDITIONS, ELEMENT_ORDER, load_program

GLOSSARY = tomllib.loads((LOCALES / "ja" / "glossary.toml").read_text(encoding="utf-8"))
_BRACKETED = re.compile(r"（[^（）]*）")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def patient_messages() -> dict[str, str]:
    return {key: text for key, text in catalog().items() if not key.startswith(tuple(GLOSSARY["staff_only"]))}


def program_texts() -> dict[str, str]:
    """Every patient-facing text of the shipped programs, named `<condition>.<where>`."""
    out: dict[str, str] = {}
    for condition in CONDITIONS:
        program = load_program(condition)
        out[f"{condition}.title"] = program.title
        for x in program.exercises:
            out[f"{condition}.{x.id}.name"], out[f"{condition}.{x.id}.how"] = x.name, x.how
            if x.supported is not None:  # what a patient at risk of falling reads instead
                out[f"{condition}.{x.id}.supported.how"] = program.supported().exercise(x.id).how
            for e, levels in x.ladder.items():  # each exercise's own ladder (issue 9)
                out[f"{condition}.{x.id}.elements.{e.value}.name"] = program.element_name(e, x.id)
                for n, level in enumerate(levels, 1):
                    out[f"{condition}.{x.id}.elements.{e.value}.{n}"] = level
        for e in ELEMENT_ORDER:
            out[f"{condition}.elements.{e.value}.name"] = program.element_name(e)
    return out


def rejected_in(text: str) -> list[str]:
    """The rejected variants and phrases in `text` (a variant in brackets after the plain word is allowed)."""
    plain = _BRACKETED.sub("", text)
    found = [f"{v} (use {term['use']})" for term in GLOSSARY["term"] for v in term["rejected"] if v in plain]
    return found + [f"{p['text']} ({p['why']})" for p in GLOSSARY["phrase"] if p["text"] in text]


def kind_of(key: str) -> str:
    """The budget kind a message key belongs to: the longest matching prefix."""
    best = max(((len(prefix), kind) for kind, spec in GLOSSARY["budget"].items() for prefix in spec["keys"]
                if key.startswith(prefix)), default=None)
    assert best is not None, f"{key}: no budget kind (locales/ja/glossary.toml)"
    return best[1]


def measured(text: str) -> int:
    """Characters as shown, each placeholder counted at its width in the glossary."""
    widths = GLOSSARY["widths"]
    return len(_PLACEHOLDER.sub(lambda m: "x" * widths.get(m.group(1), 3), text))


def budget(kind: str) -> int:
    return int(GLOSSARY["budget"][kind]["max"])


def test_glossary_is_consistent() -> None:
    """A chosen term is never also a rejected one, and no rejected variant hides inside a chosen term."""
    chosen = [term["use"] for term in GLOSSARY["term"]]
    for term in GLOSSARY["term"]:
        for variant in term["rejected"]:
            assert not any(variant in use for use in chosen), (variant, term["use"])


@pytest.mark.parametrize(("key", "text"), sorted(patient_messages().items()), ids=sorted(patient_messages()))
def test_message_uses_glossary_terms(key: str, text: str) -> None:
    assert rejected_in(text) == [], key


@pytest.mark.parametrize(("key", "text"), sorted(program_texts().items()), ids=sorted(program_texts()))
def test_program_text_uses_glossary_terms(key: str, text: str) -> None:
    assert rejected_in(text) == [], key


@pytest.mark.parametrize(("key", "text"), sorted(patient_messages().items()), ids=sorted(patient_messages()))
def test_message_within_its_budget(key: str, text: str) -> None:
    kind = kind_of(key)
    assert measured(text) <= budget(kind), f"{key} ({kind}): {measured(text)} > {budget(kind)}"


def test_program_texts_within_budget() -> None:
    over = []
    for key, text in program_texts().items():
        kind = ("exercise_name" if key.endswith(".name") and ".elements." not in key
                else "exercise_how" if key.endswith(".how") else "level")
        if not key.endswith(".title") and len(text) > budget(kind):
            over.append(f"{key} ({kind}): {len(text)} > {budget(kind)}: {text}")
    assert over == []


def test_pain_questions_carry_the_same_anchors() -> None:
    """The 0-10 scale's anchors, word for word, wherever pain is asked or the scale explained."""
    anchors = GLOSSARY["scale"]["anchors"]
    for key, text in patient_messages().items():
        asks = kind_of(key) == "question" and "0〜10" in text
        explains = "0＝" in text or "10＝" in text
        if asks or explains:
            assert anchors in text, key


def test_rejected_variants_are_found() -> None:
    """The check itself: a rejected word is found, a bracketed technical word after the plain one is not."""
    assert rejected_in("可動域を広げます") == ["可動域 (use 動かす範囲)"]
    assert rejected_in("動かす範囲（可動域）を広げます") == []
    assert rejected_in("お待たせしました。")[0].startswith("お待たせしました")
    assert kind_of("button.start_now") == "button" and kind_of("lesson.3") == "lesson"
    assert kind_of("lesson.3.title") == "label" and kind_of("decision.progress") == "reply"


def test_every_budget_is_documented() -> None:
    for kind, spec in GLOSSARY["budget"].items():
        assert spec["max"] > 0 and spec["doc"], kind
    assert Path(LOCALES / "ja" / "glossary.toml").read_text(encoding="utf-8").count("[budget.") == len(
        GLOSSARY["budget"])
