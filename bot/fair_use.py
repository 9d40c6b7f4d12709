"""Fair use: one user cannot slow everyone else down, and invite codes cannot be guessed.

- Per-user throttling (a token bucket): a user may send THROTTLE_BURST updates at once, then one every
  60 / THROTTLE_PER_MINUTE seconds on average. Updates beyond that get no reply and no work (not even a
  database session). Ratings and red-flag reports are never dropped: they are exempt (and idempotent: a
  double tap stores one answer).
- Invite codes (/clinician CODE, a clinician's patient invite link): INVITE_ATTEMPTS failures within
  INVITE_WINDOW_MINUTES per user, then the user is asked to wait until the window has passed.

In memory, per process (docs/operations.md): a restart forgets it, and with several instances each counts
its own share. Time comes from the injectable clock, so tests travel instead of sleeping.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock

MAX_TRACKED = 10_000  # users remembered before idle ones are forgotten


@dataclass
class FairUse:
    clock: Clock
    burst: int = 10
    per_minute: float = 20.0
    invite_attempts: int = 5
    invite_window: timedelta = timedelta(minutes=10)
    _buckets: dict[int, tuple[float, datetime]] = field(default_factory=dict)  # user -> (tokens, when)
    _failures: dict[int, deque[datetime]] = field(default_factory=dict)  # user -> recent invite failures
    dropped: int = 0

    # --- throttling ---------------------------------------------------------------------------------
    def _tokens(self, user_id: int, now: datetime) -> float:
        tokens, when = self._buckets.get(user_id, (float(self.burst), now))
        refill = max((now - when).total_seconds(), 0.0) * self.per_minute / 60
        return min(float(self.burst), tokens + refill)

    def allow(self, user_id: int) -> bool:
        """Take one token for this update; False when the user is over their burst (drop the update)."""
        now = self.clock.now()
        tokens = self._tokens(user_id, now)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            self.dropped += 1
            return False
        self._buckets[user_id] = (tokens - 1, now)
        if len(self._buckets) > MAX_TRACKED:
            self._forget_idle(now)
        return True

    def _forget_idle(self, now: datetime) -> None:
        for uid in [u for u in self._buckets if self._tokens(u, now) >= self.burst]:
            del self._buckets[uid]

    # --- invite codes -------------------------------------------------------------------------------
    def _recent(self, user_id: int) -> deque[datetime]:
        since = self.clock.now() - self.invite_window
        failures = self._failures.get(user_id, deque())
        while failures and failures[0] <= since:
            failures.popleft()
        if not failures:
            self._failures.pop(user_id, None)
        return failures

    def invite_blocked(self, user_id: int) -> bool:
        """Too many wrong invite codes lately: do not even look this one up."""
        return len(self._recent(user_id)) >= self.invite_attempts

    def invite_failed(self, user_id: int) -> None:
        failures = self._recent(user_id)
        failures.append(self.clock.now())
        self._failures[user_id] = failures
        if len(self._failures) > MAX_TRACKED:
            for uid in list(self._failures):
                self._recent(uid)

    def invite_wait_minutes(self, user_id: int) -> int:
        """Minutes until the oldest counted failure leaves the window (at least 1)."""
        failures = self._recent(user_id)
        if not failures:
            return 0
        left = failures[0] + self.invite_window - self.clock.now()
        return max(1, -(-int(left.total_seconds()) // 60))
