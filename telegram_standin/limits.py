"""Sliding-window rate limits, as Telegram applies them to a bot's outgoing messages.

A rate of ``r`` messages per second is enforced over a sliding window of ``max(1, 1/r)`` seconds
holding at most ``floor(r * window)`` (at least 1) accepted messages. So ``30`` means at most 30 in
any 1-second window, ``1`` one per second, ``0.5`` one every two seconds.

Only *accepted* messages enter the window; a rejected request does not extend it. ``retry_after`` is
the whole number of seconds until the oldest message in the window leaves it (always at least 1).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class _Window:
    __slots__ = ("capacity", "rate", "stamps", "window")

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self.rate = float(rate)
        self.window = max(1.0, 1.0 / self.rate)
        self.capacity = max(1, math.floor(self.rate * self.window + 1e-9))
        self.stamps: deque[float] = deque()

    def _prune(self, now: float) -> None:
        stamps = self.stamps
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()

    def retry_after(self, now: float) -> int:
        """0 if one more message fits now, else seconds (>= 1) until it will."""
        self._prune(now)
        if len(self.stamps) < self.capacity:
            return 0
        wait = self.stamps[0] + self.window - now
        return max(1, math.ceil(wait))

    def record(self, now: float) -> None:
        self.stamps.append(now)


class RateLimits:
    """Global and per-chat limits. ``None`` disables a limit. Changeable at runtime."""

    def __init__(
        self,
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._global: _Window | None = None
        self._per_chat_rate: float | None = None
        self._chats: dict[int, _Window] = {}
        self.configure(global_rate=global_rate, per_chat_rate=per_chat_rate)

    @property
    def global_rate(self) -> float | None:
        return self._global.rate if self._global else None

    @property
    def per_chat_rate(self) -> float | None:
        return self._per_chat_rate

    def configure(self, *, global_rate: float | None, per_chat_rate: float | None) -> None:
        self._global = _Window(global_rate) if global_rate else None
        self._per_chat_rate = float(per_chat_rate) if per_chat_rate else None
        self._chats.clear()

    def reset(self) -> None:
        self.configure(global_rate=self.global_rate, per_chat_rate=self.per_chat_rate)

    def check(self, chat_id: int | None) -> int:
        """Return 0 if a message to ``chat_id`` may go out now, else the retry_after seconds."""
        now = self._clock()
        wait = self._global.retry_after(now) if self._global else 0
        if self._per_chat_rate and chat_id is not None:
            window = self._chats.get(chat_id)
            if window is not None:
                wait = max(wait, window.retry_after(now))
        return wait

    def record(self, chat_id: int | None) -> None:
        """Count one accepted message (call only after :meth:`check` returned 0)."""
        now = self._clock()
        if self._global:
            self._global.record(now)
        if self._per_chat_rate and chat_id is not None:
            window = self._chats.get(chat_id)
            if window is None:
                window = self._chats[chat_id] = _Window(self._per_chat_rate)
            window.record(now)
            if len(self._chats) > 10_000:  # keep memory bounded on large benchmarks
                for cid in [c for c, w in self._chats.items() if w.retry_after(now) == 0][:5_000]:
                    del self._chats[cid]
