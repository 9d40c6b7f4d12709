"""Pure unit tests of the limiter, fault config and text handling (no server)."""

from __future__ import annotations

import pytest

from telegram_standin import Faults, StandIn
from telegram_standin.faults import FaultInjector
from telegram_standin.limits import RateLimits
from telegram_standin.markup import EntityParseError, command_entities, plain_text
from telegram_standin.params import Params

from .conftest import FakeClock


def test_global_window_retry_after_counts_from_oldest() -> None:
    clock = FakeClock()
    limits = RateLimits(global_rate=3, clock=clock)
    for _ in range(3):
        assert limits.check(1) == 0
        limits.record(1)
        clock.advance(0.2)
    assert limits.check(2) == 1  # oldest leaves the window 0.4s from now -> rounded up to 1
    clock.advance(0.4)
    assert limits.check(2) == 0


def test_fractional_per_chat_rate() -> None:
    clock = FakeClock()
    limits = RateLimits(per_chat_rate=0.25, clock=clock)  # one message per 4 seconds
    limits.record(7)
    assert limits.check(7) == 4
    assert limits.check(8) == 0
    clock.advance(2.5)
    assert limits.check(7) == 2
    clock.advance(1.5)
    assert limits.check(7) == 0


def test_faults_validation_and_burst() -> None:
    with pytest.raises(ValueError):
        Faults(error_5xx_rate=1.5)
    with pytest.raises(ValueError):
        Faults.from_dict({"nope": 1})
    injector = FaultInjector(Faults(burst_429_count=2), seed=1)
    assert [injector.draw() for _ in range(3)] == ["429", "429", None]


def test_fault_draws_are_reproducible() -> None:
    def draws(seed: int) -> list[str | None]:
        injector = FaultInjector(Faults(error_5xx_rate=0.3, timeout_rate=0.1), seed=seed)
        return [injector.draw() for _ in range(50)]

    assert draws(5) == draws(5)
    assert "5xx" in draws(5)


def test_plain_text_and_entities() -> None:
    assert plain_text("<b>a</b> &amp; <a href='x'>b</a>", "HTML") == "a & b"
    assert plain_text(r"*a* [b](http://x.y) c\.", "MarkdownV2") == "a b c."
    with pytest.raises(EntityParseError, match="Unsupported start tag"):
        plain_text("<br>", "HTML")
    with pytest.raises(EntityParseError, match="end tag"):
        plain_text("<b>x", "HTML")
    assert command_entities("/pain 3") == [{"type": "bot_command", "offset": 0, "length": 5}]
    assert command_entities("pain") == []


async def test_record_bodies_false_drops_file_bytes() -> None:
    from telegram_standin.params import Upload

    tg = StandIn(record_bodies=False)
    result = await tg.api.call(
        "sendDocument", Params({"chat_id": "1", "document": Upload(b"abc", "a.txt", "text/plain")})
    )
    assert result["document"]["file_size"] == 3
    msg = tg.last_message(1)
    assert msg.file_name == "a.txt" and msg.file_bytes is None


def test_set_limits_leaves_omitted_values() -> None:
    tg = StandIn(global_rate=30, per_chat_rate=1)
    tg.set_limits(per_chat_rate=None)
    assert (tg.limits.global_rate, tg.limits.per_chat_rate) == (30.0, None)
