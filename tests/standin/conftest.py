from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from telegram_standin import StandIn

TOKEN = "123456:TEST-token_abcdef"
USER = 777001


class FakeClock:
    """Manual clock for the rate limiter: tests advance it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def standin(clock: FakeClock) -> AsyncIterator[StandIn]:
    async with StandIn(TOKEN, clock=clock) as tg:
        yield tg


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=standin.base_url, base_file_url=standin.base_file_url) as b:
        yield b
