"""Program files and threshold files: the data the clinic edits."""

from __future__ import annotations

import pytest

from rules import CONDITIONS, ELEMENT_ORDER, Element, Program, Thresholds, load_program
from rules.programs import Exercise

# the highest top among each program's exercises (docs/clinical.md, "Exercises and their ladders")
EXPECTED_MAX = {
    "low_back": {Element.ROM: 3, Element.REPS: 8, Element.LOAD: 4, Element.SPEED: 1},
    "knee": {Element.ROM: 3, Element.REPS: 8, Element.LOAD: 4, Element.SPEED: 3},
    "both": {Element.ROM: 3, Element.REPS: 8, Element.LOAD: 4, Element.SPEED: 3},
}
NAMES = {Element.ROM: "動かす範囲", Element.REPS: "回数", Element.LOAD: "強さ", Element.SPEED: "速さ"}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_programs_load(condition: str) -> None:
    program = load_program(condition)
    assert program.condition == condition
    assert program.title
    assert 5 <= len(program.exercises) <= 6
    assert all(isinstance(x, Exercise) and x.id and x.name and x.how for x in program.exercises)
    assert program.max_levels == EXPECTED_MAX[condition]
    assert {e: program.element_name(e) for e in ELEMENT_ORDER} == NAMES
    assert load_program(condition) is program  # cached


@pytest.mark.parametrize("condition", CONDITIONS)
def test_describe_one_line_per_exercise(condition: str) -> None:
    program = load_program(condition)
    levels = {Element.ROM: 1, Element.REPS: 3, Element.LOAD: 4, Element.SPEED: 3}
    lines = program.describe(levels)
    assert len(lines) == len(program.exercises)
    assert lines == [f"{x.name}: {program.dose(levels, x.id)}" for x in program.exercises]


def test_clamp() -> None:
    program = load_program("low_back")
    assert program.clamp({Element.ROM: 0, Element.REPS: 9, Element.LOAD: 2, Element.SPEED: 3}) == {
        Element.ROM: 1, Element.REPS: 8, Element.LOAD: 2, Element.SPEED: 1,  # no back exercise has a speed
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
    assert program.describe({e: 1 for e in ELEMENT_ORDER}) == ["振り子運動: 小さく・10回・なし・ゆっくり"]


def test_program_own_picture_and_video() -> None:
    """A clinic names its own picture or video per exercise (a file path or a URL); none by default."""
    assert load_program("knee").exercises[0].picture is None
    text = GOOD_PROGRAM.replace('how = "', 'picture = "pictures/pendulum.png"\n'
                                'video = "https://clinic.example/pendulum.mp4"\nhow = "')
    exercise = Program.from_toml(text).exercises[0]
    assert (exercise.picture, exercise.video) == ("pictures/pendulum.png", "https://clinic.example/pendulum.mp4")


# The per-exercise form (issue 9): each exercise names the elements that apply to it and its own levels.
NEW_PROGRAM = """
condition = "test"
title = "テストの運動"

[[exercises]]
id = "knee_hug"
name = "ひざ抱え"
start = "あおむけに寝ます。"
move = "片ひざを両手で抱えて胸に引き寄せます。"
breath = "息を止めずに。"
stop = "しびれが出たらやめます。"
[exercises.ladder]
rom = ["ひざを軽く抱える", "ひざを胸に近づける"]
load = {name = "保つ時間", levels = ["10秒", "15秒", "20秒"]}

[[exercises]]
id = "sit_to_stand"
name = "いすからの立ち上がり"
standing = true
start = "テーブルに指先をそえて、いすに浅く座ります。"
move = "ゆっくり立ち上がり、ゆっくり座ります。"
breath = "立つときに息を吐きます。"
stop = "ふらついたらやめます。"
[exercises.ladder]
reps = ["8回", "10回", "12回", "15回", "8回×2セット"]
speed = ["ゆっくり（4秒で1回）", "ふつう（3秒で1回）"]
[exercises.supported]
start = "両手でテーブルにつかまり、いすに浅く座ります。"
move = "両手でテーブルを押しながら立ち上がり、ゆっくり座ります。"

[[exercises]]
id = "walking"
name = "ウォーキング"
start = "歩きやすい靴で。"
move = "ふだんの速さで歩きます。"
breath = "会話ができる息づかいで。"
stop = "痛みが4以上になったら休みます。"
[exercises.ladder.reps]
name = "1日の時間"
levels = ["10分", "12分", "14分"]
"""
LOW = {Element.ROM: 1, Element.REPS: 1, Element.LOAD: 1, Element.SPEED: 1}


def test_per_exercise_ladders() -> None:
    program = Program.from_toml(NEW_PROGRAM)
    hug, stand, walk = program.exercises
    assert set(hug.ladder) == {Element.ROM, Element.LOAD} and set(walk.ladder) == {Element.REPS}
    # an element's max is the highest top among the exercises that have it
    assert program.max_levels == {Element.ROM: 2, Element.REPS: 5, Element.LOAD: 3, Element.SPEED: 2}
    assert program.element_name(Element.ROM) == "動かす範囲"  # the glossary's term when the file names none
    assert program.element_name(Element.LOAD, "knee_hug") == "保つ時間"
    assert program.element_name(Element.REPS, "walking") == "1日の時間"
    assert program.dose(LOW, "knee_hug") == "ひざを軽く抱える・10秒"
    assert program.dose(LOW, "sit_to_stand") == "8回・ゆっくり（4秒で1回）"
    assert program.describe({**LOW, Element.REPS: 5}) == [
        "ひざ抱え: ひざを軽く抱える・10秒", "いすからの立ち上がり: 8回×2セット・ゆっくり（4秒で1回）",
        "ウォーキング: 14分"]
    assert stand.how == "テーブルに指先をそえて、いすに浅く座ります。ゆっくり立ち上がり、ゆっくり座ります。" \
                        "立つときに息を吐きます。ふらついたらやめます。"
    assert (stand.start, stand.move, stand.breath, stand.stop) == (
        "テーブルに指先をそえて、いすに浅く座ります。", "ゆっくり立ち上がり、ゆっくり座ります。",
        "立つときに息を吐きます。", "ふらついたらやめます。")


def test_a_raise_changes_each_exercise_where_the_element_applies_and_is_not_at_its_top() -> None:
    program = Program.from_toml(NEW_PROGRAM)
    raised = program.changes({**LOW, Element.REPS: 3}, {**LOW, Element.REPS: 4})
    assert [(c.exercise.id, c.name, c.before, c.after) for c in raised] == [
        ("sit_to_stand", "回数", "12回", "15回")]  # walking is at its top (3 levels): unchanged
    raised = program.changes(LOW, {**LOW, Element.REPS: 2})
    assert [(c.exercise.name, c.name, c.before, c.after) for c in raised] == [
        ("いすからの立ち上がり", "回数", "8回", "10回"), ("ウォーキング", "1日の時間", "10分", "12分")]
    assert program.changes(LOW, LOW) == ()


def test_a_step_back_lowers_every_exercise_at_the_counter() -> None:
    program = Program.from_toml(NEW_PROGRAM)
    # reps 5 (the highest top): walking sits at its top 3, sit-to-stand at 5; one step back lowers sit-to-stand
    lowered = program.changes({**LOW, Element.REPS: 5}, {**LOW, Element.REPS: 4})
    assert [(c.exercise.id, c.before, c.after) for c in lowered] == [("sit_to_stand", "8回×2セット", "15回")]
    lowered = program.changes({**LOW, Element.REPS: 3}, {**LOW, Element.REPS: 2})
    assert [(c.exercise.id, c.before, c.after) for c in lowered] == [
        ("sit_to_stand", "12回", "10回"), ("walking", "14分", "12分")]
    # a counter kept from an earlier file above every top comes down to the highest top: a step back then lowers
    assert program.clamp({**LOW, Element.REPS: 9}) == {**LOW, Element.REPS: 5}


def test_an_element_no_exercise_has_is_at_its_top_at_once() -> None:
    program = Program.from_toml(NEW_PROGRAM.replace('speed = ["ゆっくり（4秒で1回）", "ふつう（3秒で1回）"]\n', ""))
    assert program.max_levels[Element.SPEED] == 1
    assert program.elements == (Element.ROM, Element.REPS, Element.LOAD)
    assert load_program("low_back").elements == (Element.ROM, Element.REPS, Element.LOAD)  # no speed in back


def test_the_supported_variant_replaces_start_and_move_of_standing_exercises() -> None:
    program = Program.from_toml(NEW_PROGRAM)
    supported = program.supported()
    stand = supported.exercise("sit_to_stand")
    assert stand.start == "両手でテーブルにつかまり、いすに浅く座ります。" and stand.how.startswith("両手で")
    plain = program.exercise("sit_to_stand")
    assert (stand.breath, stand.stop, stand.ladder) == (plain.breath, plain.stop, plain.ladder)
    assert supported.exercise("walking") == program.exercise("walking")
    assert supported.max_levels == program.max_levels
    assert load_program("knee", supported=True) is load_program("knee", True)


def test_the_program_wide_form_is_still_read() -> None:
    """A file of the earlier form (program-wide [elements.<e>] levels): every exercise on the same ladders."""
    program = Program.from_toml(GOOD_PROGRAM)
    (pendulum,) = program.exercises
    assert pendulum.ladder == {Element.ROM: ("小さく", "大きく"), Element.REPS: ("10回",), Element.LOAD: ("なし",),
                               Element.SPEED: ("ゆっくり",)}
    assert program.element_name(Element.ROM) == "可動域"  # the file's own names are kept
    assert program.dose({**LOW, Element.ROM: 2}, "pendulum") == "大きく・10回・なし・ゆっくり"
    assert pendulum.how == "前かがみで腕を垂らし、小さく揺らします。"


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
        (GOOD_PROGRAM.replace('levels = ["ゆっくり"]', ""), "elements: the program-wide form needs levels"),
        (NEW_PROGRAM.replace('[exercises.ladder.reps]', "[exercises.ladders]"), r"exercises\[2\].ladders"),
        (NEW_PROGRAM.replace('rom = ["ひざを軽く抱える"', 'power = ["ひざを軽く抱える"'),
         r"exercises\[0\].ladder.power"),
        (NEW_PROGRAM.replace('speed = ["ゆっくり（4秒で1回）", "ふつう（3秒で1回）"]', 'speed = []'),
         r"exercises\[1\].ladder.speed"),
        (NEW_PROGRAM.replace('"10回", "12回"', '"10回", "10回"'),
         r"exercises\[1\].ladder.reps: two levels say the same"),
        (NEW_PROGRAM.replace('breath = "会話ができる息づかいで。"\n', ""), r"exercises\[2\]: .*missing breath"),
        (NEW_PROGRAM.replace('name = "ウォーキング"', 'name = "ウォーキング"\nhow = "歩きます。"'),
         r"exercises\[2\].how"),
        (NEW_PROGRAM.replace('standing = true', 'standing = "yes"'), r"exercises\[1\].standing"),
        (NEW_PROGRAM.replace('[exercises.supported]\n', '[exercises.supported]\nbreath = "x"\n'),
         r"exercises\[1\].supported.breath"),
        (NEW_PROGRAM.replace('[exercises.ladder.reps]\nname = "1日の時間"\nlevels = ["10分", "12分", "14分"]\n', ""),
         r"exercises\[2\].ladder: missing"),
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
