"""Fixtures shared by the end-to-end tests of clinicians' features."""

from __future__ import annotations

import pytest

from tests.harness import Coach

ADMIN = 9001  # the admin of `clinic` (tests/e2e/test_clinicians.py names it too)


@pytest.fixture
async def clinic(standin, database_url, coach_start):
    """A coach with one admin (ADMIN); clinicians join in the test."""
    c = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN]).start()
    yield c
    await c.stop()
