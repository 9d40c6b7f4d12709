"""docs/clinical.md's table of clinical scenarios names tests that exist: each `file::test[id]` is a test
function of that file (and, for the worked cases, a row id of tests/rules/test_engine.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "clinical.md").read_text(encoding="utf-8")
TABLE = DOC[DOC.index("## Clinical scenarios"):]
TABLE = TABLE[:TABLE.index("\n## ", 1)]
REFS = re.findall(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`", TABLE)


def test_the_table_names_tests():
    assert len(REFS) > 60


@pytest.mark.parametrize(("path", "name", "param"), REFS, ids=[f"{p}::{n}[{i}]" for p, n, i in REFS])
def test_each_scenario_names_an_existing_test(path, name, param):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path} has no test {name}"
    if path == "tests/rules/test_engine.py" and param:
        assert f'Row("{param}",' in source, f"no worked case {param}"
