"""The `decide` request: a case plus optional thresholds, as one JSON object (the CLI's input)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.parsing import CaseError, type_name
from rules.thresholds import ThresholdError, Thresholds
from rules.types import Case


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
