"""The outgoing rate limiter's two lanes (bot/telegram_limiter.py), driven in fake time: nothing sleeps,
the tests move the clock and fire the limiter's timers by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import Counter, defaultdict

import pytest
from telegram.error import RetryAfter

from bot.telegram_limiter import Lane, LaneRateLimiter, LaneScheduler, Ticket, sending_in

# --- the policy, pure -----------------------------------------------------------------------------


def _drain(s: LaneScheduler, until: float, now: float = 0.0, rtt: float = 0.0) -> list[tuple[float, Ticket]]:
    """Grant everything the scheduler lets through until `until`, jumping from one due time to the next."""
    out = []
    while now <= until:
        nxt = s.next(now)
        if isinstance(nxt, Ticket):
            out.append((now, nxt))
            s.done(nxt, now + rtt)  # its answer comes back after one round trip
        elif nxt is None:
            break
        else:
            now = nxt
    return out


def _max_in_window(times: list[float], window: float) -> int:
    """The most grants in any half-open window [t, t + window)."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


seq = itertools.count()


def ticket(lane: Lane, chat: int | str) -> Ticket:
    return Ticket(next(seq), lane, chat, isinstance(chat, str) or chat < 0)


def test_a_reply_goes_before_queued_bulk_messages():
    s = LaneScheduler(30)
    for chat in range(1000, 1100):
        s.submit(ticket(Lane.BULK, chat))
    first = _drain(s, until=0.5)  # about half a second of the fan-out has gone
    assert first and all(t.lane is Lane.BULK for _, t in first)
    reply = ticket(Lane.INTERACTIVE, 42)
    s.submit(reply)
    now = first[-1][0]
    nxt = s.next(now)
    if not isinstance(nxt, Ticket):  # the budget's next slot
        nxt = s.next(nxt)
    assert nxt is reply
    assert s.waiting(Lane.BULK) == 100 - len(first)  # nothing dropped from the bulk queue


def test_bulk_keeps_a_fifth_of_the_budget_under_a_steady_stream_of_taps():
    s = LaneScheduler(30)
    for chat in range(1000, 3000):
        s.submit(ticket(Lane.BULK, chat))
    taps = itertools.count(5000)
    granted: Counter[Lane] = Counter()
    now = 0.0
    while granted.total() < 600:
        while s.waiting(Lane.INTERACTIVE) < 5:  # more taps than the whole budget: never a gap
            s.submit(ticket(Lane.INTERACTIVE, next(taps)))
        nxt = s.next(now)
        if isinstance(nxt, Ticket):
            granted[nxt.lane] += 1
            s.done(nxt, now)
        else:
            now = nxt
    assert granted[Lane.BULK] / granted.total() >= 0.2
    assert granted[Lane.INTERACTIVE] > granted[Lane.BULK]  # and the taps still come first


def test_global_limit_holds_at_telegrams_rate():
    s = LaneScheduler(30)
    for chat in range(1000, 1600):
        s.submit(ticket(Lane.BULK, chat))
        if chat % 7 == 0:
            s.submit(ticket(Lane.INTERACTIVE, -chat if chat % 2 else chat + 10_000))
    granted = _drain(s, until=60, rtt=0.004)
    assert len(granted) > 100
    assert _max_in_window([t for t, _ in granted], 1.0) <= 30


def test_a_slow_answer_holds_the_budget_so_telegram_never_counts_more_than_the_limit():
    """Telegram counts a request somewhere between our sending it and its answer: a request whose
    answer is slow (a stalled network or server) must not let 31 fall into one second."""
    s = LaneScheduler(30)
    for chat in range(1000, 1100):
        s.submit(ticket(Lane.BULK, chat))
    now, sent, slow = 0.0, [], None
    while len(sent) < 31:
        nxt = s.next(now)
        if isinstance(nxt, Ticket):
            sent.append(now)
            if slow is None:  # the first one's answer is slow; the others' come at once
                slow = nxt
            else:
                s.done(nxt, now)
        elif nxt == math.inf:  # nothing can go until the slow answer is in
            break
        else:
            now = nxt
    assert len(sent) == 30  # the 31st waits for the first one's answer
    s.done(slow, now + 0.3)
    nxt = s.next(now)
    assert nxt == pytest.approx(now + 1.3)


def test_per_chat_and_group_limits_hold():
    s = LaneScheduler(30, per_chat_burst=3)
    for _ in range(12):
        s.submit(ticket(Lane.INTERACTIVE, 7))  # one patient's chat
        s.submit(ticket(Lane.BULK, 7))
    for _ in range(25):
        s.submit(ticket(Lane.BULK, -100))  # a clinicians' group
    for chat in range(1000, 1040):
        s.submit(ticket(Lane.BULK, chat))  # everyone else flows meanwhile
    by_chat = defaultdict(list)
    for t, tk in _drain(s, until=200):
        by_chat[tk.chat].append(t)
    chat = by_chat[7]
    assert len(chat) == 24
    for window in (1.0, 2.0, 5.0, 10.0):  # ~1 a second, with a burst of 3
        assert _max_in_window(chat, window) <= 3 + window - 1
    assert len(by_chat[-100]) == 25 and _max_in_window(by_chat[-100], 60.0) <= 20
    # other chats were not held up behind the limited ones
    others = [t for c, ts in by_chat.items() if c not in (7, -100) for t in ts]
    assert len(others) == 40 and max(others) < 5


def test_a_429_for_one_chat_holds_only_that_chat():
    s = LaneScheduler(30)
    a1, a2 = ticket(Lane.BULK, 1), ticket(Lane.BULK, 1)
    s.submit(a1)
    assert s.next(0.0) is a1
    s.done(a1, 0.01)
    s.submit(a2)
    assert isinstance(s.next(0.1), Ticket)  # a2: within the chat's burst
    s.done(a2, 0.2)
    s.retry_after(a2, 10, now=0.2)  # the chat had just had a message: its own limit
    s.submit(a2)
    for chat in range(100, 130):
        s.submit(ticket(Lane.BULK, chat))
    granted = _drain(s, until=30, now=0.2)
    others = [t for t, tk in granted if tk.chat != 1]
    assert len(others) == 30 and max(others) < 2  # nobody else waited
    [(when, again)] = [(t, tk) for t, tk in granted if tk.chat == 1]
    assert again is a2 and when >= 10.2
    assert s.global_pauses == 0 and s.chat_pauses == 1


def test_a_global_429_pauses_every_chat_for_retry_after_only():
    s = LaneScheduler(30)
    first = ticket(Lane.BULK, 1)
    s.submit(first)
    assert s.next(0.0) is first
    s.done(first, 0.05)
    s.retry_after(first, 2, now=0.05)  # a chat with no recent message: the bot's global limit
    for chat in range(100, 110):
        s.submit(ticket(Lane.INTERACTIVE if chat % 2 else Lane.BULK, chat))
    granted = _drain(s, until=10, now=0.05)
    assert len(granted) == 10 and min(t for t, _ in granted) == pytest.approx(2.05)
    assert s.global_pauses == 1


# --- the PTB adapter, in fake time ----------------------------------------------------------------


class FakeTime:
    """A clock and timers that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list = []
        self._n = itertools.count()

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, callback):
        handle = asyncio.Handle(callback, (), asyncio.get_running_loop())
        heapq.heappush(self._timers, (self.now + delay, next(self._n), handle))
        return handle

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        end = self.now + seconds
        await self.settle()
        while self._timers and self._timers[0][0] <= end:
            when, _, handle = heapq.heappop(self._timers)
            if handle.cancelled():
                continue
            self.now = max(self.now, when)
            handle._run()
            await self.settle()
        self.now = end
        await self.settle()


class FakeTelegram:
    """Records each call the limiter lets through; answers 429 where the test says."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[tuple[float, str, int | None]] = []
        self.reject: dict[str, list[int]] = {}  # label -> retry_after for its next calls

    def request(self, label: str, chat: int | None):
        async def callback():
            self.calls.append((self.time.now, label, chat))
            if self.reject.get(label):
                raise RetryAfter(self.reject[label].pop(0))
            return True
        return callback

    def labels(self) -> list[str]:
        return [label for _, label, _ in self.calls]


@pytest.fixture
def fake():
    time = FakeTime()
    limiter = LaneRateLimiter(10, clock=time.clock, timer=time.call_later)
    return time, limiter, FakeTelegram(time)


def send(limiter, tg, label: str, chat: int | None, lane: Lane = Lane.INTERACTIVE):
    async def go():
        with sending_in(lane):
            return await limiter.process_request(tg.request(label, chat), (), {}, "sendMessage",
                                                 {"chat_id": chat} if chat is not None else {}, None)
    return asyncio.create_task(go())


async def test_bulk_sends_queue_behind_a_reply_and_callback_answers_never_wait(fake):
    time, limiter, tg = fake
    bulk = [send(limiter, tg, f"reminder {c}", c, Lane.BULK) for c in range(100, 130)]
    await time.advance(0.5)
    sent_before = len(tg.calls)
    assert 0 < sent_before < 30
    answer = send(limiter, tg, "answer press", None)  # answerCallbackQuery: no chat, no wait
    reply = send(limiter, tg, "reply", 7)
    await time.settle()
    assert answer.done() and tg.labels()[sent_before] == "answer press"
    await time.advance(1.0)  # the budget's next slot
    assert reply.done() and tg.labels()[sent_before + 1] == "reply"
    await time.advance(10)
    assert all(t.done() for t in bulk)
    assert Counter(tg.labels()) == Counter([f"reminder {c}" for c in range(100, 130)] + ["answer press", "reply"])


async def test_a_429_on_one_lane_loses_and_repeats_nothing_on_the_other(fake):
    time, limiter, tg = fake
    tg.reject["reply 2"] = [5]  # the patient's chat hit its own limit
    first = send(limiter, tg, "reply 1", 7)
    await time.advance(0.2)
    second = send(limiter, tg, "reply 2", 7)
    bulk = [send(limiter, tg, f"reminder {c}", c, Lane.BULK) for c in range(100, 140)]
    await time.advance(3)
    # the rejected reply waits; every other chat carries on meanwhile
    assert first.done() and not second.done()
    assert sum(label.startswith("reminder") for label in tg.labels()) >= 25
    await time.advance(10)
    assert second.done() and second.result() is True
    assert all(b.done() and b.result() is True for b in bulk)
    counts = Counter(tg.labels())
    assert counts["reply 2"] == 2  # rejected once, then accepted
    assert all(counts[f"reminder {c}"] == 1 for c in range(100, 140))
    retry_at = [t for t, label, _ in tg.calls if label == "reply 2"][1]
    assert retry_at >= 5.2
    assert limiter.scheduler.global_pauses == 0


async def test_a_bulk_429_that_persists_reaches_the_caller(fake):
    time, limiter, tg = fake
    tg.reject["reminder"] = [1, 1, 1, 1]  # more 429s than the limiter retries
    task = send(limiter, tg, "reminder", 100, Lane.BULK)
    await time.advance(20)
    with pytest.raises(RetryAfter):
        task.result()
    assert tg.labels().count("reminder") == 4  # first try + 3 retries


async def test_a_cancelled_wait_leaves_the_queue(fake):
    time, limiter, tg = fake
    tasks = [send(limiter, tg, f"m{c}", c, Lane.BULK) for c in range(100, 120)]
    await time.settle()
    tasks[-1].cancel()
    await time.advance(10)
    assert limiter.scheduler.waiting() == 0
    assert "m119" not in tg.labels() and len(tg.labels()) == 19
