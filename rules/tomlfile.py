"""The clinic's TOML files (programs/*.toml, redflags.toml, a thresholds file): read and checked one way.

Each check raises `error(message)`, a one-line message naming the key (`elements.rom.name: must be a
non-empty text`), so every file keeps its own error type (ValueError, RedFlagError, ThresholdError).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from typing import Any

Error = Callable[[str], Exception]


def parse(text: str, error: Error = ValueError) -> dict[str, Any]:
    """The file's top-level table; a file that is not TOML raises `error("invalid TOML: ...")`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"invalid TOML: {err}") from None


def known_keys(data: Mapping[str, Any], allowed: tuple[str, ...], where: str = "", error: Error = ValueError) -> None:
    """Every key of `data` is one of `allowed` (a typo must not hide a setting)."""
    for key in data:
        if key not in allowed:
            raise error(f"{at(where, key)}: unknown key (expected one of {', '.join(allowed)})")


def text(data: Mapping[str, Any], key: str, where: str = "", error: Error = ValueError) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise error(f"{at(where, key)}: must be a non-empty text")
    return value


def at(where: str, key: str) -> str:
    """The path of `key` inside `where` (`elements.rom` + `name`)."""
    return f"{where}.{key}" if where else key
