"""Command line for other clinic tools (keep it stable; documented in docs/rules.md).

    python -m rules decide < case.json          one JSON case on stdin -> one JSON decision on stdout
    python -m rules describe --condition knee --levels rom=2,reps=3,load=1,speed=1 [--supported] [--how]

`decide` speaks the schema version the case asks for (`"schema": 1` or `2`; docs/rules.md).

A malformed input exits with status 2 and one line on stderr: `error: <field>: <problem>`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from rules.parsing import CaseError
from rules.programs import CONDITIONS, load_program
from rules.request import answer
from rules.types import ELEMENT_ORDER, Element

EXIT_MALFORMED = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "decide":
            return _decide()
        return _describe(args.condition, args.levels, args.supported, args.how)
    except CaseError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_MALFORMED


def _decide() -> int:
    try:
        obj = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise CaseError("case", f"invalid JSON: {err}") from None
    json.dump(answer(obj), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _describe(condition: str, text: str, supported: bool, how: bool) -> int:
    program = load_program(condition, supported)
    levels = {e: 1 for e in ELEMENT_ORDER}
    maxima = program.max_levels
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name not in {e.value for e in ELEMENT_ORDER}:
            raise CaseError("--levels", f"unknown element {name!r} (expected rom, reps, load, speed)")
        e = Element(name)
        if not value.isdigit() or not 1 <= int(value) <= maxima[e]:
            raise CaseError(f"--levels.{name}", f"level must be between 1 and {maxima[e]}, got {value!r}")
        levels[e] = int(value)
    lines = program.describe(levels)
    if how:
        lines = [f"{line}\n  {x.how}" for line, x in zip(lines, program.exercises, strict=True)]
    sys.stdout.buffer.write("".join(f"{line}\n" for line in lines).encode("utf-8"))
    sys.stdout.flush()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rules", description="Itami Coach decision rules.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "decide",
        help="read one JSON case on stdin, write one JSON decision on stdout",
        description="Read one JSON case on stdin and write one JSON decision on stdout (see docs/rules.md). "
        "A malformed case exits with status 2 and one line on stderr.",
    )
    describe = sub.add_parser("describe", help="print each exercise's dose for a condition and levels")
    describe.add_argument("--condition", required=True, choices=CONDITIONS)
    describe.add_argument(
        "--levels", default="", metavar="rom=N,reps=N,load=N,speed=N", help="levels (default: all 1)"
    )
    describe.add_argument("--supported", action="store_true",
                          help="standing exercises in their supported variants (a patient at risk of falling)")
    describe.add_argument("--how", action="store_true", help="each exercise's instructions under its line")
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
