"""Deterministic fault injection for the stand-in.

Faults apply to *send requests*: ``send*`` methods except ``sendChatAction``, and ``edit*`` methods.
A faulted request never records a message and is never counted as delivered.

* ``error_5xx_rate``: that fraction of send requests answer 502 or 500 with a Telegram-like JSON body
  (PTB raises :class:`telegram.error.NetworkError`).
* ``timeout_rate``: that fraction of send requests are held for ``timeout_seconds`` before a 504 is
  written, so the client normally times out first (PTB raises :class:`telegram.error.TimedOut`).
  Decision: the message is **not** delivered (not recorded in the chat, not counted in
  ``messages_delivered``); it is counted in ``stats["timeouts"]``. Real Telegram may or may not have
  delivered such a message; the stand-in models the "lost" case so retries do not double-post.
* ``burst_429_count``: the next N send requests answer 429 with ``retry_after=burst_429_retry_after``.
* ``blocked_rate``: that fraction of chat ids (chosen by hashing the chat id with the seed, so stable
  for a given seed) answer 403 "Forbidden: bot was blocked by the user" to every chat method.

Random draws come from ``random.Random(seed)`` in request order, so a run is reproducible.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Faults:
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 10.0
    burst_429_count: int = 0
    burst_429_retry_after: int = 1
    blocked_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_5xx_rate", "timeout_rate", "blocked_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        if self.burst_429_count < 0 or self.burst_429_retry_after < 1 or self.timeout_seconds < 0:
            raise ValueError("burst_429_count >= 0, burst_429_retry_after >= 1, timeout_seconds >= 0")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class FaultInjector:
    """Decides, per send request, which fault (if any) to apply."""

    def __init__(self, faults: Faults | None = None, seed: int = 0) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self.faults = faults or Faults()
        self._burst_left = self.faults.burst_429_count

    def configure(self, faults: Faults, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = seed
            self._rng = random.Random(seed)
        self.faults = faults
        self._burst_left = faults.burst_429_count

    @property
    def burst_left(self) -> int:
        return self._burst_left

    def is_blocked(self, chat_id: int) -> bool:
        rate = self.faults.blocked_rate
        if rate <= 0.0:
            return False
        digest = hashlib.sha256(f"{self.seed}:{chat_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate

    def draw(self) -> str | None:
        """Return ``"429"``, ``"5xx"``, ``"timeout"`` or ``None`` for the next send request."""
        if self._burst_left > 0:
            self._burst_left -= 1
            return "429"
        f = self.faults
        if f.error_5xx_rate > 0.0 and self._rng.random() < f.error_5xx_rate:
            return "5xx"
        if f.timeout_rate > 0.0 and self._rng.random() < f.timeout_rate:
            return "timeout"
        return None

    def pick_5xx(self) -> int:
        return 502 if self._rng.random() < 0.5 else 500
