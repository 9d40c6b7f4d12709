"""Small checkers for JSON values. Each raises CaseError naming the field path (e.g. `sessions[2].during`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CaseError(ValueError):
    """A malformed case. `field` is the path of the offending field; `message` is one line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def under(self, prefix: str) -> CaseError:
        """The same error, with its field path prefixed (`during` under `sessions[2]`)."""
        return CaseError(f"{prefix}.{self.field}" if self.field else prefix, self.message)


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def as_object(value: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    """A JSON object whose keys are all in `allowed` (unknown keys are refused: a typo must not hide data)."""
    if not isinstance(value, Mapping):
        raise CaseError(path, f"must be an object, got {type_name(value)}")
    for key in value:
        if key not in allowed:
            name = _join(path, key) if str(key).isidentifier() else f"{path}[{_show(key)}]"
            raise CaseError(name, f"unknown field (expected one of {', '.join(allowed)})")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise CaseError(path, f"must be an array, got {type_name(value)}")
    return list(value)


def required(obj: Mapping[str, Any], key: str, path: str = "") -> Any:
    if key not in obj:
        raise CaseError(_join(path, key), "missing field")
    return obj[key]


def as_date(value: Any, path: str) -> dt.date:
    """A date written YYYY-MM-DD."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise CaseError(path, f"bad date {value!r}, expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CaseError(path, f"bad date {value!r}, expected YYYY-MM-DD") from None


def as_rating(value: Any, path: str) -> int | None:
    """A 0-10 pain rating, or None when missing. 3.5 and booleans are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise CaseError(path, f"rating must be an integer 0-10, got {_show(value)}")
    return value


def as_level(value: Any, path: str, maximum: int | None) -> int:
    """A level, 1..maximum (or any integer >= 1 when maximum is None)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CaseError(path, f"level must be an integer, got {_show(value)}")
    if maximum is None and value < 1:
        raise CaseError(path, f"level must be at least 1, got {value}")
    if maximum is not None and not 1 <= value <= maximum:
        raise CaseError(path, f"level must be between 1 and {maximum}, got {value}")
    return value


def as_enum(enum: type[E], value: Any, path: str, what: str) -> E:
    """A member of `enum` given by its value ("rom", "fever", ...)."""
    try:
        return enum(value)
    except ValueError:
        expected = ", ".join(m.value for m in enum)
        raise CaseError(path, f"unknown {what} {_show(value)} (expected one of {expected})") from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    """A value as it was written in JSON (`11`, `3.5`, `"x"`, `true`, `null`)."""
    return json.dumps(value, ensure_ascii=False, default=str)
