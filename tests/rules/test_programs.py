"""Program files and threshold files: the data the clinic edits."""

from __future__ import annotations

import pytest

from rules import CONDITIONS, ELEMENT_ORDER, Element, Program, Thresholds, load_program
from rules.programs import Exercise

EXPECTED_MAX = {Element.ROM: 3, Element.REPS: 5, Element.LOAD: 4, Element.SPEED: 3}
NAMES = {Element.ROM: "動かす範囲", Element.REPS: "回数", Element.LOAD: "強さ", Element.SPEED: "速さ"}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_programs_load(condition: str) -> None:
    program = load_program(condition)
    assert program.condition == condition
    assert program.title
    assert 3 <= len(program.exercises) <= 5
    assert all(isinstance(x, Exercise) and x.id and x.name and x.how for x in program.exercises)
    assert program.max_levels == EXPECTED_MAX
    assert {e: program.element_name(e) for e in ELEMENT_ORDER} == NAMES
    assert load_program(condition) is program  # cached


@pytest.mark.parametrize("condition", CONDITIONS)
def test_describe_four_lines(condition: str) -> None:
    program = load_program(condition)
    lines = program.describe({Element.ROM: 1, Element.REPS: 3, Element.LOAD: 4, Element.SPEED: 3})
    assert len(lines) == 4
    assert lines[0] == "動かす範囲: 小さな範囲で（痛みのない範囲の半分）"
    assert lines[1] == "回数: 10回×2セット"
    assert lines[3].startswith("速さ: ")


def test_describe_level_bounds() -> None:
    program = load_program("knee")
    assert program.describe_level(Element.REPS, 1) == "8回×1セット"
    assert program.describe_level(Element.REPS, 5) == "15回×2セット"
    for bad in (0, 6):
        with pytest.raises(ValueError, match="reps"):
            program.describe_level(Element.REPS, bad)


def test_clamp() -> None:
    program = load_program("low_back")
    assert program.clamp({Element.ROM: 0, Element.REPS: 9, Element.LOAD: 2}) == {
        Element.ROM: 1, Element.REPS: 5, Element.LOAD: 2, Element.SPEED: 1,
    }


def test_unknown_condition() -> None:
    with pytest.raises(ValueError, match="hip"):
        load_program("hip")


GOOD_PROGRAM = """
condition = "shoulder"
title = "肩の運動"
[[exercises]]
id = "pendulum"
name = "振り子運動"
how = "前かがみで腕を垂らし、小さく揺らします。"
[elements.rom]
name = "可動域"
levels = ["小さく", "大きく"]
[elements.reps]
name = "回数"
levels = ["10回"]
[elements.load]
name = "負荷"
levels = ["なし"]
[elements.speed]
name = "速さ"
levels = ["ゆっくり"]
"""


def test_program_from_toml() -> None:
    program = Program.from_toml(GOOD_PROGRAM)
    assert program.max_levels == {Element.ROM: 2, Element.REPS: 1, Element.LOAD: 1, Element.SPEED: 1}
    assert program.describe({e: 1 for e in ELEMENT_ORDER})[0] == "可動域: 小さく"


def test_program_own_picture_and_video() -> None:
    """A clinic names its own picture or video per exercise (a file path or a URL); none by default."""
    assert load_program("knee").exercises[0].picture is None
    text = GOOD_PROGRAM.replace('how = "', 'picture = "pictures/pendulum.png"\n'
                                'video = "https://clinic.example/pendulum.mp4"\nhow = "')
    exercise = Program.from_toml(text).exercises[0]
    assert (exercise.picture, exercise.video) == ("pictures/pendulum.png", "https://clinic.example/pendulum.mp4")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (GOOD_PROGRAM.replace('levels = ["10回"]', "levels = []"), "elements.reps.levels"),
        (GOOD_PROGRAM.replace("[elements.speed]", "[elements.power]"), "elements.power"),
        (GOOD_PROGRAM.replace('title = "肩の運動"', ""), "title"),
        (GOOD_PROGRAM.replace('id = "pendulum"', ""), r"exercises\[0\].id"),
        ("colour = 1\n" + GOOD_PROGRAM, "colour"),
        (GOOD_PROGRAM + "colour = 1\n", r"elements.speed.colour"),
        (GOOD_PROGRAM.replace('how = "', 'level = 2\nhow = "'), r"exercises\[0\].level"),
        (GOOD_PROGRAM.replace('how = "', 'picture = ""\nhow = "'), r"exercises\[0\].picture"),
        (GOOD_PROGRAM.replace('how = "', 'video = 3\nhow = "'), r"exercises\[0\].video"),
        ("not = [toml", "invalid TOML"),
    ],
)
def test_program_from_toml_bad(text: str, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        Program.from_toml(text)


def test_thresholds_defaults() -> None:
    t = Thresholds()
    assert (t.during_max, t.severe, t.sessions_to_progress) == (3, 7, 2)
    assert (t.trend_window_days, t.trend_min_ratings, t.history_days) == (7, 2, 14)


def test_thresholds_from_toml() -> None:
    assert Thresholds.from_toml("during_max = 2\nsevere = 8\n") == Thresholds(during_max=2, severe=8)
    assert Thresholds.from_toml("[thresholds]\nsessions_to_progress = 3\n") == Thresholds(sessions_to_progress=3)
    assert Thresholds.from_toml("") == Thresholds()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("during_mx = 3", "during_mx"),
        ("during_max = 7", "during_max"),
        ("during_max = -1", "during_max"),
        ("severe = 11", "severe"),
        ("sessions_to_progress = 0", "sessions_to_progress"),
        ("trend_min_ratings = 0", "trend_min_ratings"),
        ("trend_window_days = 10", "history_days"),
        ('severe = "7"', "severe"),
        ("severe = 7.0", "severe"),
        ("severe = true", "severe"),
        ("severe = ", "invalid TOML"),
    ],
)
def test_thresholds_from_toml_bad(text: str, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        Thresholds.from_toml(text)


def test_thresholds_from_mapping_bad() -> None:
    with pytest.raises(ValueError, match="colour"):
        Thresholds.from_mapping({"colour": 1})
