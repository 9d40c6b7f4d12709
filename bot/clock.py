"""The one source of "now" for the bot (aware UTC). Tests and `python -m bot chat` travel in time
by moving it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._offset = timedelta(0)
        self._frozen = frozen_at.astimezone(UTC) if frozen_at is not None else None

    def now(self) -> datetime:
        base = self._frozen if self._frozen is not None else datetime.now(UTC)
        return base + self._offset

    def travel(self, delta: timedelta) -> None:
        self._offset += delta

    def freeze(self, at: datetime) -> None:
        self._frozen = at.astimezone(UTC)
        self._offset = timedelta(0)
