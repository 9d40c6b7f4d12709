"""The `decide` request: a case plus optional thresholds and schema version, as one JSON object (the CLI's
input), and its answer (the CLI's output)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.engine import decide
from rules.parsing import CaseError, type_name
from rules.thresholds import ThresholdError, Thresholds
from rules.types import Case

# The JSON schema versions `python -m rules decide` speaks (docs/rules.md, "Schema versions"):
# 1 (the default, unchanged): the decision only; 2: also `schema` and `changes` (what changed in which exercise).
SCHEMAS: tuple[int, ...] = (1, 2)
SCHEMA_DEFAULT = 1
SCHEMA_LATEST = SCHEMAS[-1]


def parse_request(obj: Any) -> tuple[Case, Thresholds]:
    """Case and thresholds from a request object. Raises CaseError naming the bad field."""
    case = Case.from_json(obj)
    raw = obj.get("thresholds") if isinstance(obj, Mapping) else None
    if raw is None:
        return case, Thresholds()
    if not isinstance(raw, Mapping):
        raise CaseError("thresholds", f"must be an object, got {type_name(raw)}")
    try:
        return case, Thresholds.from_mapping(raw)
    except ThresholdError as err:
        raise CaseError(f"thresholds.{err.key}", err.problem) from None


def parse_schema(obj: Any) -> int:
    """The schema version the request asks for (`"schema"`; absent: 1). Raises CaseError."""
    value = obj.get("schema", SCHEMA_DEFAULT) if isinstance(obj, Mapping) else SCHEMA_DEFAULT
    if isinstance(value, bool) or value not in SCHEMAS:
        raise CaseError("schema", f"must be one of {', '.join(map(str, SCHEMAS))}, got {value!r}")
    return int(value)


def answer(obj: Any) -> dict[str, Any]:
    """The CLI's answer to one request: the decision's JSON in the schema version asked for.

    Schema 2 adds `"schema": 2` and `"changes"`: one entry per exercise whose dose changed
    (`exercise`, `name`, `element`, `element_name`, `before`, `after`), from the program named by
    `condition` (`null` when the request names no condition)."""
    schema = parse_schema(obj)
    case, thresholds = parse_request(obj)
    decision = decide(case, thresholds)
    out = decision.to_json()
    if schema == 1:
        return out
    from rules.programs import load_program  # programs import rules.types, as Case.from_json does

    condition = obj.get("condition")
    changes = None
    if condition is not None:
        program = load_program(condition)
        changes = [{"exercise": c.exercise.id, "name": c.exercise.name, "element": c.element.value,
                    "element_name": c.name, "before": c.before, "after": c.after}
                   for c in program.changes(case.levels, decision.levels)]
    return {"schema": schema, **out, "changes": changes}
