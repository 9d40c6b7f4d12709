"""Command line for other clinic tools (keep it stable; documented in docs/rules.md).

    python -m rules decide < case.json          one JSON case on stdin -> one JSON decision on stdout
    python -m rules describe --condition knee --levels rom=2,reps=3,load=1,speed=1

A malformed input exits with status 2 and one line on stderr: `error: <field>: <problem>`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from rules.engine import decide
from rules.parsing import CaseError
from rules.programs import CONDITIONS, load_program
from rules.request import parse_request
from rules.types import ELEMENT_ORDER, Element

EXIT_MALFORMED = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "decide":
            return _decide()
        return _describe(args.condition, args.levels)
    except CaseError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_MALFORMED


def _decide() -> int:
    try:
        obj = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise CaseError("case", f"invalid JSON: {err}") from None
    case, thresholds = parse_request(obj)
    json.dump(decide(case, thresholds).to_json(), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _describe(condition: str, text: str) -> int:
    program = load_program(condition)
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
    sys.stdout.buffer.write("".join(f"{line}\n" for line in program.describe(levels)).encode("utf-8"))
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
    describe = sub.add_parser("describe", help="print the prescription for a condition and levels")
    describe.add_argument("--condition", required=True, choices=CONDITIONS)
    describe.add_argument(
        "--levels", default="", metavar="rom=N,reps=N,load=N,speed=N", help="levels (default: all 1)"
    )
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
