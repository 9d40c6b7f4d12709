"""Bot API request parameters, decoded the way Telegram does.

PTB sends every call as a form (urlencoded, or multipart when uploading): strings as-is and every
other value JSON-encoded (ints as ``"123"``, bools as ``"true"``, ``reply_markup`` as a JSON object
string). Other clients may send a JSON body or a query string. :class:`Params` accepts all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """An error answered with Telegram's shape ``{"ok": false, "error_code", "description"}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(slots=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __contains__(self, name: str) -> bool:
        return self._data.get(name) is not None

    def raw(self, name: str) -> Any:
        return self._data.get(name)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self._data.get(name)
        if value is None:
            return default
        if isinstance(value, Upload):
            raise bad_request(f"parameter {name!r} must be a string")
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self._data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f'invalid parameter "{name}"') from None

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self._data.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'invalid parameter "{name}"') from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self._data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1", "yes")

    def json(self, name: str, default: Any = None, *, what: str | None = None) -> Any:
        value = self._data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        return value

    def upload(self, name: str) -> Upload | str | None:
        """A file parameter: an :class:`Upload`, or a string (file_id / URL / ``attach://x``)."""
        value = self._data.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self._data.get(value[len("attach://") :])
        if value is None or isinstance(value, Upload | str):
            return value
        return str(value)
