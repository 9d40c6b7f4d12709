"""The coach on LINE: the LINE stand-in beside the Telegram one (clinicians stay on Telegram)."""

from __future__ import annotations

import pytest

from line_standin import LineStandin, new_user_id
from tests.harness import LINE_SECRET, LINE_TOKEN, Coach
from tests.helpers import START

ADMIN = 9001  # on Telegram: the clinic side


@pytest.fixture
async def line():
    async with LineStandin(LINE_SECRET, LINE_TOKEN, allow_http_media=True) as server:
        yield server


@pytest.fixture
def patient() -> str:
    """A LINE user id (U and 32 hex digits)."""
    return new_user_id()


@pytest.fixture
async def line_coach(standin, line, database_url):
    c = await Coach(standin, database_url, START, line=line, admin_telegram_ids=[ADMIN],
                    clinic_name="いたみクリニック", clinic_phone="03-0000-0000", clinic_hours="9:00-18:00").start()
    yield c
    await c.stop()
