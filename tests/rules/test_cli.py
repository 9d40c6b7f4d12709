"""`python -m rules` through a real subprocess: documented examples and every error path."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.rules.helpers import EXAMPLES, load_example

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rules", *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        cwd=ROOT,
        check=False,
    )


def decode(result: subprocess.CompletedProcess) -> tuple[int, str, str]:
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_documented_examples(path: Path) -> None:
    example = load_example(path)
    code, out, err = decode(run("decide", stdin=json.dumps(example["case"], ensure_ascii=False)))
    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    assert json.loads(out) == example["expected"]


def test_at_least_five_examples() -> None:
    assert len(EXAMPLES) >= 5


BASE: dict[str, Any] = load_example(EXAMPLES[0])["case"]


def mutated(path: str, value: Any = ..., drop: bool = False) -> dict[str, Any]:
    """BASE with one field (dotted path, list indexes as numbers) replaced or dropped."""
    case = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = case
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    key = int(last) if last.isdigit() else last
    if drop:
        del node[key]
    else:
        node[key] = value
    return case


BAD = [
    ("invalid_json", "{not json", "case: invalid JSON"),
    ("not_an_object", "[1, 2]", "case: must be an object"),
    ("missing_today", mutated("today", drop=True), "today: missing field"),
    ("missing_sessions", mutated("sessions", drop=True), "sessions: missing field"),
    ("missing_level", mutated("levels.speed", drop=True), "levels.speed: missing field"),
    ("no_max_no_condition", {k: v for k, v in BASE.items() if k not in ("max_levels", "condition")},
     "max_levels: missing field"),
    ("unknown_condition", {**{k: v for k, v in BASE.items() if k != "max_levels"}, "condition": "hip"},
     "condition: unknown condition"),
    ("wrong_type_levels", mutated("levels", [1, 2]), "levels: must be an object, got array"),
    ("wrong_type_sessions", mutated("sessions", {}), "sessions: must be an array, got object"),
    ("rating_too_high", mutated("sessions.0.during", 11), "sessions[0].during: rating must be an integer 0-10, got 11"),
    ("rating_negative", mutated("sessions.0.before", -1), "sessions[0].before: rating must be an integer 0-10"),
    ("rating_fraction", mutated("sessions.0.after", 3.5), "sessions[0].after: rating must be an integer 0-10, got 3.5"),
    ("rating_bool", mutated("sessions.0.next_morning", True), "sessions[0].next_morning: rating must be"),
    ("rating_string", mutated("sessions.0.during", "3"), "sessions[0].during: rating must be"),
    ("unknown_element_level", mutated("levels.power", 1), "levels.power: unknown field"),
    ("unknown_element_history", mutated("raise_history", ["rom", "power"]), "raise_history[1]: unknown element"),
    ("unknown_flag", mutated("flags", ["headache"]), "flags[0]: unknown flag"),
    ("unknown_session_flag", mutated("sessions.0.flags", ["fever", "x"]), "sessions[0].flags[1]: unknown flag"),
    ("unknown_stage", mutated("stage", "lunch"), "stage: unknown stage"),
    ("unknown_field", mutated("flag", ["fever"]), "flag: unknown field"),
    ("unknown_session_field", mutated("sessions.0.durin", 2), "sessions[0].durin: unknown field"),
    ("bad_level_change", mutated("sessions.0.level_change", "stop"), "sessions[0].level_change: must be"),
    ("level_zero", mutated("levels.rom", 0), "levels.rom: level must be between 1 and 3, got 0"),
    ("level_above_max", mutated("levels.reps", 6), "levels.reps: level must be between 1 and 5, got 6"),
    ("level_not_int", mutated("levels.reps", "2"), "levels.reps: level must be an integer"),
    ("max_level_zero", mutated("max_levels.load", 0), "max_levels.load: level must be at least 1"),
    ("schema_3", {**BASE, "schema": 3}, "schema: must be one of 1, 2, got 3"),
    ("schema_text", {**BASE, "schema": "2"}, "schema: must be one of 1, 2, got '2'"),
    ("bad_date", mutated("today", "2026-13-01"), "today: bad date"),
    ("bad_date_format", mutated("sessions.0.date", "25/11/2026"), "sessions[0].date: bad date"),
    ("missing_session_date", mutated("sessions.0.date", drop=True), "sessions[0].date: missing field"),
    ("session_after_today", mutated("sessions.0.date", "2026-11-26"), "sessions[0].date: 2026-11-26 is after"),
    ("unknown_threshold", mutated("thresholds.during_mx", 3), "thresholds.during_mx: unknown threshold"),
    ("bad_threshold", mutated("thresholds.during_max", 8), "thresholds.during_max: must be at least 0 and below"),
    ("threshold_not_int", mutated("thresholds.severe", 7.5), "thresholds.severe: must be an integer"),
]


@pytest.mark.parametrize(("name", "case", "expected"), BAD, ids=[b[0] for b in BAD])
def test_malformed_case(name: str, case: Any, expected: str) -> None:
    stdin = case if isinstance(case, str) else json.dumps(case)
    code, out, err = decode(run("decide", stdin=stdin))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.startswith(f"error: {expected}"), err
    assert "Traceback" not in err


def test_non_utf8_input() -> None:
    result = subprocess.run([sys.executable, "-m", "rules", "decide"], input=b"\xff\xfe{", capture_output=True,
                            cwd=ROOT, check=False)
    assert result.returncode == 2 and result.stderr.decode().startswith("error: case: invalid JSON")


def test_describe() -> None:
    """One line per exercise with today's dose at these levels (Program.describe)."""
    from rules import Element, load_program

    code, out, err = decode(run("describe", "--condition", "knee", "--levels", "rom=2,reps=3,load=1,speed=1"))
    assert (code, err) == (0, "")
    program = load_program("knee")
    levels = {Element.ROM: 2, Element.REPS: 3, Element.LOAD: 1, Element.SPEED: 1}
    assert out.splitlines() == [f"{x.name}: {program.dose(levels, x.id)}" for x in program.exercises]
    code, out, err = decode(run("describe", "--condition", "knee", "--supported", "--how"))
    supported = load_program("knee", supported=True)
    assert (code, err) == (0, "") and out.splitlines()[1::2] == [f"  {x.how}" for x in supported.exercises]


def test_schema_1_is_the_default_and_2_adds_the_changes() -> None:
    """A request without "schema" gets the output it always got; "schema": 2 adds schema and changes."""
    example = load_example(ROOT / "tests/rules/examples/13_schema_2_changes.json")
    v2 = json.loads(decode(run("decide", stdin=json.dumps(example["case"], ensure_ascii=False)))[1])
    v1_case = {k: v for k, v in example["case"].items() if k != "schema"}
    v1 = json.loads(decode(run("decide", stdin=json.dumps(v1_case, ensure_ascii=False)))[1])
    assert v2 == {"schema": 2, **v1, "changes": v2["changes"]} and "schema" not in v1 and "changes" not in v1
    assert v2["changes"] and {c["element"] for c in v2["changes"]} == {v2["element"]}
    no_program = {**example["case"], "max_levels": {"rom": 3, "reps": 5, "load": 4, "speed": 3}}
    del no_program["condition"]
    assert json.loads(decode(run("decide", stdin=json.dumps(no_program)))[1])["changes"] is None


@pytest.mark.parametrize(
    ("levels", "expected"),
    [("rom=9", "error: --levels.rom: level must be between 1 and 3"), ("power=1", "error: --levels: unknown")],
)
def test_describe_bad_levels(levels: str, expected: str) -> None:
    code, _, err = decode(run("describe", "--condition", "knee", "--levels", levels))
    assert code == 2 and err.startswith(expected) and err.count("\n") == 1


def test_help() -> None:
    code, out, _ = decode(run("--help"))
    assert code == 0 and "decide" in out and "describe" in out
    code, out, _ = decode(run("decide", "--help"))
    assert code == 0 and "stdin" in out
