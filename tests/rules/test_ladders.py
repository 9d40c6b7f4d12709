"""The shipped programs as a physiotherapist reviews them (issue 9 §1; docs/clinical.md, "Exercises and their
ladders"): every ladder changes one element per level, in small steps; standing exercises are supported and have
a supported variant for fall risk; every exercise has its starting position, movement, breathing and stop cue;
and how many good sessions it takes to reach the top of each program, computed with the real rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from pathlib import Path

import pytest

from rules import CONDITIONS, ELEMENT_ORDER, Action, Case, Element, Program, SessionRecord, Stage, decide, load_program

PROGRAMS = [load_program(c) for c in CONDITIONS]
IDS = [p.condition for p in PROGRAMS]
CLINICAL = (Path(__file__).resolve().parents[2] / "docs" / "clinical.md").read_text(encoding="utf-8")

# What a level text of each element may speak of, so that one step changes one element (a reps level never
# names a weight, a speed level never a count): the words of the other elements' doses are refused.
AMOUNT = re.compile(r"^(?:(\d+)回(?:×(\d)セット)?|(\d+)分)$")  # 回数: 8回, 8回×2セット; walking: 10分
MINUTES = r"\d分"
FOREIGN: dict[Element, tuple[str, ...]] = {
    Element.ROM: ("回", "セット", "秒", "kg", "おもり", "バンド", MINUTES),
    Element.REPS: ("秒", "kg", "おもり", "バンド", "上げる", "いす"),
    Element.LOAD: ("回", "セット", MINUTES, "上げる"),
    Element.SPEED: ("回", "セット", MINUTES, "kg", "おもり", "バンド"),
}
NEVER = ("支えなし", "分の", "可動域", "大腿四頭筋", "踵", "ひざ")  # no unsupported standing, no fractions, no jargon


def volume(text: str) -> int:
    """The amount a 回数 level asks for: repetitions x sets, or minutes."""
    m = AMOUNT.match(text)
    assert m, f"a 回数 level is a count, a count of sets or minutes: {text!r}"
    reps, sets, minutes = m.groups()
    return int(minutes) if minutes else int(reps) * int(sets or 1)


def all_texts(program: Program) -> list[str]:
    texts = [program.title]
    for x in (*program.exercises, *program.supported().exercises):
        texts += [x.name, x.how, *(level for levels in x.ladder.values() for level in levels), *x.labels.values()]
    return texts


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_every_ladder_changes_one_element_per_level(program: Program) -> None:
    """Each level of an element's ladder speaks of that element only, and going up one level of one element
    changes that element's part of each exercise's dose and nothing else."""
    for x in program.exercises:
        assert x.ladder, x.id
        for e, levels in x.ladder.items():
            for level in levels:
                assert not [w for w in FOREIGN[e] if re.search(w, level)], (x.id, e.value, level)
    maxima = program.max_levels
    for e in ELEMENT_ORDER:
        for n in range(1, maxima[e]):
            low = {o: 1 for o in ELEMENT_ORDER} | {e: n}
            high = low | {e: n + 1}
            for x in program.exercises:
                before, after = program.dose_parts(low, x.id), program.dose_parts(high, x.id)
                assert [p for p in before if p[0] is not e] == [p for p in after if p[0] is not e], (x.id, e, n)
            assert program.changes(low, high), f"{e.value} {n}->{n + 1} changes no exercise"


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_repetitions_rise_in_small_steps_and_a_second_set_comes_after_15(program: Program) -> None:
    """回数: each step at most a quarter more (8→10→12→15, then 8×2 = 16, ...), and a second set only once a
    single set reached 15; walking minutes likewise (10→12→14 ...)."""
    for x in program.exercises:
        levels = x.ladder.get(Element.REPS, ())
        amounts = [volume(level) for level in levels]
        for a, b in itertools.pairwise(amounts):
            assert a < b <= a * 1.25, (x.id, a, b)
        sets = [level for level in levels if "セット" in level]
        if sets:
            assert levels[levels.index(sets[0]) - 1] == "15回", x.id


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_every_exercise_says_where_to_start_how_to_move_breathe_and_when_to_stop(program: Program) -> None:
    for x in (*program.exercises, *program.supported().exercises):
        assert x.start and x.move and x.breath and x.stop, x.id
        assert "息" in x.breath, x.id
        assert re.search(r"やめ|休み|休んで|小さく", x.stop), x.id
        assert x.how == x.start + x.move + x.breath + x.stop


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_standing_exercises_are_supported_and_have_a_variant_for_fall_risk(program: Program) -> None:
    """Fingertips on a wall or table for every standing exercise (walking: the ground is the support), never
    「支えなしで」; a patient at risk of falling gets a variant with more support (both hands, a chair behind,
    their walking aid) or lying down."""
    for x in program.exercises:
        if not x.standing:
            continue
        assert x.supported is not None, x.id
        if x.id != "walking":
            assert "指先" in x.start and re.search("テーブル|壁", x.start), x.id
        variant = program.supported().exercise(x.id)
        assert re.search("両手|杖|寝て|ひじかけ", variant.how) and variant.how != x.how, x.id
    for text in all_texts(program):
        assert not [w for w in NEVER if w in text], text


def test_the_programs_have_walking_hip_and_thigh_work() -> None:
    """Walking for both conditions; hip abduction and straight-leg raise for the knee; a glute exercise for the
    back (the ids the pictures are drawn for)."""
    ids = {p.condition: {x.id for x in p.exercises} for p in PROGRAMS}
    assert all("walking" in exercises for exercises in ids.values())
    assert {"hip_abduction", "straight_leg_raise"} <= ids["knee"]
    assert "bridge" in ids["low_back"] and "bridge" in ids["both"] and "hip_abduction" in ids["both"]


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_no_element_is_raised_in_an_exercise_it_does_not_apply_to(program: Program) -> None:
    """A stretch has no speed or weights, a hold no speed, walking only its minutes."""
    kinds = {x.id: set(x.ladder) for x in program.exercises}
    for stretch in ("knee_to_chest",):
        if stretch in kinds:
            assert kinds[stretch] == {Element.ROM, Element.LOAD}
            assert program.element_name(Element.LOAD, stretch) == "保つ時間"
    for hold in ("quad_setting", "pelvic_tilt"):
        if hold in kinds:
            assert Element.SPEED not in kinds[hold] and Element.ROM not in kinds[hold]
    assert kinds["walking"] == {Element.REPS} and program.element_name(Element.REPS, "walking") == "1日の時間"


# --- how long to the top ----------------------------------------------------------------------------------------

GOOD = {"before": 2, "during": 2, "after": 1, "next_morning": 1}


def sessions_to_top(program: Program, every_days: int = 1) -> tuple[int, int]:
    """Good sessions (one every `every_days` days) until the rules hold with program_complete, starting at level 1;
    and the raises on the way. The real decide(), thresholds by default."""
    start = dt.date(2026, 1, 1)
    levels = {e: 1 for e in ELEMENT_ORDER}
    history: tuple[Element, ...] = ()
    done: list[SessionRecord] = []
    raises = top = 0
    for n in range(1, 400):
        today = start + dt.timedelta(days=n * every_days)
        done.append(SessionRecord(date=today - dt.timedelta(days=1), **GOOD))
        recent = tuple(s for s in done if s.date > today - dt.timedelta(days=14))
        d = decide(Case(today=today, stage=Stage.NEXT_MORNING, levels=levels, max_levels=program.max_levels,
                        raise_history=history, sessions=recent))
        if d.program_complete:
            return top, raises  # the good sessions it took to reach the top (the last raise)
        if d.action is Action.PROGRESS:
            raises, top = raises + 1, n
            levels, history = dict(d.levels), d.raise_history
            done[-1] = dataclasses.replace(done[-1], level_change=Action.PROGRESS)
    raise AssertionError("never reached the top")


TOP_ROW = re.compile(r"^\| `(?P<condition>\w+)` \| (?P<raises>\d+) \| (?P<sessions>\d+) \|", re.M)


@pytest.mark.parametrize("program", PROGRAMS, ids=IDS)
def test_the_documented_time_to_the_top_is_what_the_rules_give(program: Program) -> None:
    sessions, raises = sessions_to_top(program)
    assert raises == sum(n - 1 for n in program.max_levels.values())
    assert sessions == 2 * raises  # two good sessions at each level (sessions_to_progress) before each raise
    documented = {m["condition"]: (int(m["raises"]), int(m["sessions"])) for m in TOP_ROW.finditer(CLINICAL)}
    assert documented[program.condition] == (raises, sessions)
