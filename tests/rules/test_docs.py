"""docs/rules.md shows exactly the examples the tests run, and documents every message key and reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rules import MESSAGE_KEYS, REASONS, Case, Thresholds, parse_request
from rules.request import answer
from tests.rules.helpers import EXAMPLES, load_example

DOC = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
SECTION = re.compile(r"### Example `(?P<name>[\w-]+)`\n(?P<body>.*?)(?=\n### |\n<!-- examples:end -->)", re.S)
JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.S)
DOCUMENTED = {m["name"]: m["body"] for m in SECTION.finditer(DOC)}


def test_every_example_documented_and_no_other() -> None:
    assert sorted(DOCUMENTED) == [p.stem for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_doc_shows_the_example(path: Path) -> None:
    example = load_example(path)
    body = DOCUMENTED[path.stem]
    blocks = [json.loads(b) for b in JSON_BLOCK.findall(body)]
    assert blocks == [example["case"], example["expected"]]
    assert example["title"] in body


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_in_process(path: Path) -> None:
    example = load_example(path)
    case, thresholds = parse_request(example["case"])
    assert answer(example["case"]) == example["expected"]
    assert Case.from_json(case.to_json()) == case
    assert isinstance(thresholds, Thresholds)


def test_doc_lists_every_message_key_and_reason() -> None:
    for key in (*MESSAGE_KEYS, *REASONS):
        assert f"`{key}`" in DOC, key
