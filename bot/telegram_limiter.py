"""Outgoing Bot API requests: one budget within Telegram's limits, two lanes.

* **interactive**: answers to a person's own action (a button, a typed rating, a command): everything a
  handler sends. Served first, so a tap is answered at once even while thousands of reminders go out.
* **bulk**: what the delivery runner sends (reminders, questions, summaries, alerts). It keeps at least
  `bulk_share` (20 %) of the budget while it has something to send, however many taps arrive.

The lane of a request comes from a context variable: the delivery runner sends inside
`sending_in(Lane.BULK)`; everything else is interactive. (PTB's `rate_limit_args` also works, e.g.
`bot.send_message(..., rate_limit_args="bulk")`, but PTB refuses that argument when no limiter is set,
so the code uses the context variable.)

Limits (requests that carry a `chat_id`: sends and edits; callback answers and getUpdates are not
limited and never wait):
* global: even spacing at `rate - margin` (0.5/s under Telegram's 30/s), and never more than `floor(rate)`
  dispatches in any `floor(rate) / (rate - margin)` seconds, kept on the dispatch times themselves. A late
  timer or a stalled process is made up for (up to 10 slots at twice the rate) instead of being lost
  (PTB's AIORateLimiter, used before, lost it on every release: fan-out reached 0.94 of the limit),
  without ever exceeding the window;
* per private chat: ~1 message/s with a short burst (`per_chat_burst`), as Telegram allows;
* per group (negative or @name chat ids): 20 a minute, strictly spaced (at 20 - margin).

429 (`RetryAfter`): when the chat had sent nothing recently, the 429 can only be the bot's global limit:
every chat-bound request waits `retry_after` (callback answers still go). Otherwise only that chat (or
group) waits. The request is retried in its place (up to `max_retries` times, for a `retry_after` up to
`max_wait`), so a multi-message delivery is not repeated; beyond that RetryAfter reaches the caller
(the delivery runner puts the row back).

`LaneScheduler` is the pure policy (no asyncio, time passed in); `LaneRateLimiter` is the PTB adapter
that wakes waiters from a timer. Both take an injectable clock (and the adapter a timer) for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from bisect import insort
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

INF = math.inf


class Lane(StrEnum):
    INTERACTIVE = "interactive"
    BULK = "bulk"


_LANE: ContextVar[Lane] = ContextVar("telegram_lane", default=Lane.INTERACTIVE)


@contextlib.contextmanager
def sending_in(lane: Lane) -> Iterator[None]:
    """Requests made inside this block (in this task) go through `lane`."""
    token = _LANE.set(lane)
    try:
        yield
    finally:
        _LANE.reset(token)


class _Spacing:
    """Generic cell rate: one request every `interval` s on average, up to `burst` at once."""

    __slots__ = ("blocked_until", "interval", "tat", "tolerance")

    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval
        self.tolerance = (max(burst, 1) - 1) * interval
        self.tat = -INF  # theoretical arrival time of the next request
        self.blocked_until = -INF  # a 429's retry_after

    def ready_at(self) -> float:
        return max(self.tat - self.tolerance, self.blocked_until)

    def idle(self, now: float) -> bool:
        """Nothing sent within the last interval (the burst allowance is whole again)."""
        return self.tat <= now

    def take(self, now: float) -> None:
        self.tat = max(self.tat, now) + self.interval


class _Grant:
    __slots__ = ("done_at",)

    def __init__(self) -> None:
        self.done_at = INF  # when its answer came back (INF while in flight)


class _Window:
    """The global budget: evenly spaced at `interval`, and never more than `cap` requests counted by
    Telegram in any `period` seconds, whatever the network and the two processes' scheduling do.

    The count is kept by causality, not by our own send times: Telegram counts a request after we send
    it and before we receive its answer. So a request may go only `period` after the answers of every
    request granted `cap` or more places before it came back. Jitter (a stall of the bot or of the
    server) then cannot squeeze `cap + 1` requests into one window, which spacing with a margin alone
    did under load. It costs one round trip per `cap` requests (a few ms a second on the same host).
    Releases that are late (a busy event loop, a stalled process) are made up for: up to CATCH_UP slots
    go at twice the rate, so a stall costs no throughput, and the window above still holds."""

    __slots__ = ("cap", "grants", "interval", "last", "period", "retired", "tat")
    CATCH_UP = 10  # slots a stalled process may make up for (at twice the rate; the window still holds)

    def __init__(self, cap: int, period: float, interval: float) -> None:
        self.cap = cap
        self.period = period
        self.interval = interval
        self.tat = -INF
        self.last = -INF
        self.grants: deque[_Grant] = deque()
        self.retired = -INF  # latest answer among the grants dropped from the front

    def ready_at(self) -> float:
        ready = max(self.tat - self.CATCH_UP * self.interval, self.last + self.interval / 2)
        grants = self.grants
        if len(grants) >= self.cap:
            while len(grants) > self.cap and grants[0].done_at < INF:
                self.retired = max(self.retired, grants.popleft().done_at)
            answered = self.retired
            for i in range(len(grants) - self.cap + 1):
                answered = max(answered, grants[i].done_at)
            ready = max(ready, answered + self.period)
        return ready

    def take(self, now: float) -> _Grant:
        self.tat = max(self.tat, now) + self.interval
        self.last = now
        grant = _Grant()
        self.grants.append(grant)
        return grant


@dataclass(eq=False, slots=True)
class Ticket:
    """One chat-bound request waiting for (or holding) its turn."""

    seq: int
    lane: Lane
    chat: int | str
    group: bool
    on_grant: Callable[[], None] | None = None
    fresh_chat: bool = False  # the chat was idle when this was granted
    grant: _Grant | None = None

    def __lt__(self, other: Ticket) -> bool:  # queues are kept in arrival order
        return self.seq < other.seq


def is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


class LaneScheduler:
    """The policy: which waiting request goes next, and when. Pure: the caller passes the time."""

    def __init__(self, rate: float, *, margin: float = 0.0, per_chat_rate: float = 1.0, per_chat_burst: int = 3,
                 group_per_minute: float = 20.0, bulk_share: float = 0.2) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        window = max(1.0, 1.0 / rate)
        cap = max(1, math.floor(rate * window + 1e-9))
        effective = rate - margin if rate - margin >= rate * 0.9 else rate * 0.9
        self.rate = rate
        self._global = _Window(cap, window, 1.0 / effective)
        self._chat_interval = 1.0 / per_chat_rate
        self._chat_burst = per_chat_burst
        self._group_interval = 60.0 / (group_per_minute - 0.5)
        self._chats: dict[int | str, _Spacing] = {}
        self._queues: dict[Lane, list[Ticket]] = {Lane.INTERACTIVE: [], Lane.BULK: []}
        self._paused_until = -INF  # a global 429
        # interactive grants allowed in a row while bulk waits: share 0.2 -> 4 interactive, then 1 bulk
        self._max_run = max(0, round((1 - bulk_share) / bulk_share)) if bulk_share > 0 else 1 << 30
        self._run = 0
        self.granted: dict[Lane, int] = {Lane.INTERACTIVE: 0, Lane.BULK: 0}
        self.global_pauses = 0
        self.chat_pauses = 0

    # --- queue ---------------------------------------------------------------------------------------
    def submit(self, ticket: Ticket) -> None:
        insort(self._queues[ticket.lane], ticket)

    def withdraw(self, ticket: Ticket) -> None:
        with contextlib.suppress(ValueError):
            self._queues[ticket.lane].remove(ticket)

    def waiting(self, lane: Lane | None = None) -> int:
        return sum(len(q) for ln, q in self._queues.items() if lane in (None, ln))

    # --- limits --------------------------------------------------------------------------------------
    def _cell(self, chat: int | str, group: bool) -> _Spacing:
        cell = self._chats.get(chat)
        if cell is None:
            cell = self._chats[chat] = (_Spacing(self._group_interval, 1) if group
                                        else _Spacing(self._chat_interval, self._chat_burst))
        return cell

    def _first_ready(self, lane: Lane, now: float) -> tuple[Ticket | None, float]:
        """The oldest request of `lane` whose chat may take a message now; else when the next one may."""
        soonest = INF
        for ticket in self._queues[lane]:
            cell = self._chats.get(ticket.chat)
            ready = cell.ready_at() if cell is not None else -INF
            if ready <= now:
                return ticket, now
            soonest = min(soonest, ready)
        return None, soonest

    def next(self, now: float) -> Ticket | float | None:
        """The request to dispatch now (its budget taken), or the time to look again, or None when
        nothing waits."""
        inter = self._queues[Lane.INTERACTIVE]
        bulk = self._queues[Lane.BULK]
        if not inter and not bulk:
            return None
        i_ticket, i_at = self._first_ready(Lane.INTERACTIVE, now) if inter else (None, INF)
        b_ticket, b_at = self._first_ready(Lane.BULK, now) if bulk else (None, INF)
        if i_ticket is None and b_ticket is None:
            return max(min(i_at, b_at), self._global_ready())
        global_at = self._global_ready()
        if global_at > now:
            return global_at
        ticket: Ticket | None
        if i_ticket is not None and (b_ticket is None or self._run < self._max_run):
            ticket = i_ticket
            self._run = self._run + 1 if b_ticket is not None else 0
        else:
            ticket = b_ticket
            self._run = 0
        assert ticket is not None
        self._grant(ticket, now)
        return ticket

    def _global_ready(self) -> float:
        return max(self._global.ready_at(), self._paused_until)

    def _grant(self, ticket: Ticket, now: float) -> None:
        self._queues[ticket.lane].remove(ticket)
        cell = self._cell(ticket.chat, ticket.group)
        ticket.fresh_chat = cell.idle(now)
        cell.take(now)
        ticket.grant = self._global.take(now)
        self.granted[ticket.lane] += 1
        if len(self._chats) > 20_000:  # bounded memory on a long fan-out: drop idle chats
            for key in [k for k, c in self._chats.items() if c.idle(now) and c.blocked_until <= now][:10_000]:
                del self._chats[key]

    def done(self, ticket: Ticket, now: float) -> None:
        """`ticket`'s request has its answer (or failed): Telegram has counted it by now."""
        if ticket.grant is not None:
            ticket.grant.done_at = now
            ticket.grant = None

    def retry_after(self, ticket: Ticket, seconds: float, now: float) -> None:
        """Telegram answered 429 to `ticket`'s request. A chat that had been idle cannot have hit its own
        limit: that is the bot's global limit, and every chat-bound request waits. Otherwise only the
        chat (or group) waits."""
        until = now + seconds
        if ticket.fresh_chat and not ticket.group:
            self._paused_until = max(self._paused_until, until)
            self.global_pauses += 1
        else:
            cell = self._cell(ticket.chat, ticket.group)
            cell.blocked_until = max(cell.blocked_until, until)
            self.chat_pauses += 1


def _seconds(retry_after: Any) -> float:
    return retry_after if isinstance(retry_after, int | float) else retry_after.total_seconds()


class LaneRateLimiter(BaseRateLimiter[str]):
    """PTB's rate limiter interface over `LaneScheduler` (see the module docstring)."""

    def __init__(self, per_second: float, *, max_retries: int = 3, max_wait: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 timer: Callable[[float, Callable[[], None]], Any] | None = None, **policy: Any) -> None:
        self.scheduler = LaneScheduler(per_second, **policy)
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._clock = clock
        self._timer = timer
        self._handle: Any = None
        self._armed_at = INF
        self._seq = itertools.count()
        # seconds each request waited for its turn, the latest 10,000 per lane (benchmarks read them)
        self.waits: dict[Lane, deque[float]] = {lane: deque(maxlen=10_000) for lane in Lane}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        self._disarm()

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: str | None) -> Any:
        chat = data.get("chat_id")
        if chat is None:  # callback answers, commands, getMe: not limited
            return await callback(*args, **kwargs)
        if isinstance(chat, str):
            with contextlib.suppress(ValueError):
                chat = int(chat)
        lane = Lane(rate_limit_args) if rate_limit_args else _LANE.get()
        ticket = Ticket(next(self._seq), lane, chat, is_group(chat))
        for attempt in range(self._max_retries + 1):
            await self._admit(ticket)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self.scheduler.retry_after(ticket, wait, self._clock())
                log.info("telegram: 429 on %s (%s lane), retry after %s s", endpoint, lane, wait)
                if attempt == self._max_retries or wait > self._max_wait:
                    raise
            finally:
                self.scheduler.done(ticket, self._clock())
                self.pump()
        raise AssertionError("unreachable")

    async def _admit(self, ticket: Ticket) -> None:
        granted = asyncio.get_running_loop().create_future()
        asked = self._clock()

        def grant() -> None:
            if not granted.done():
                granted.set_result(None)

        ticket.on_grant = grant
        self.scheduler.submit(ticket)
        self.pump()
        if granted.done():
            self.waits[ticket.lane].append(0.0)
            return
        try:
            await granted
            self.waits[ticket.lane].append(self._clock() - asked)
        except asyncio.CancelledError:
            if not granted.done() or granted.cancelled():
                self.scheduler.withdraw(ticket)
                self.pump()
            raise

    # --- dispatch ------------------------------------------------------------------------------------
    def pump(self) -> None:
        """Grant every request that may go now; arm a timer for the next one."""
        while True:
            now = self._clock()
            nxt = self.scheduler.next(now)
            if isinstance(nxt, Ticket):
                assert nxt.on_grant is not None
                nxt.on_grant()
                continue
            if nxt is None:
                self._disarm()
            elif nxt < self._armed_at:
                self._disarm()
                self._armed_at = nxt
                self._handle = self._schedule(max(nxt - now, 0.0), self._fire)
            return

    def _schedule(self, delay: float, callback: Callable[[], None]) -> Any:
        if self._timer is not None:
            return self._timer(delay, callback)
        return asyncio.get_running_loop().call_later(delay, callback)

    def _fire(self) -> None:
        self._handle = None
        self._armed_at = INF
        self.pump()

    def _disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_at = INF
