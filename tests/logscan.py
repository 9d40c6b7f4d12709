"""All log output of the end-to-end tests, checked for secrets and health data.

While a test under tests/e2e runs, every record at DEBUG and above (with the library levels the bot
itself sets, `bot.logs.quiet_libraries`) is formatted by the bot's own formatter and kept. When the test
ends, the text must hold no bot token (not even a token-shaped string or a /bot<token>/ URL), no
`rating=`, no SQL parameters, and none of the names of the test's Telegram users (the "use my Telegram
name" nickname). The formatter is given no secret here, so the token is caught by its shape alone, as a
revoked, mistyped or rotated token would be in production.
"""

from __future__ import annotations

import logging
import re

import pytest

from bot import logs
from tests.harness import TOKEN

LEAKS = {
    "the bot token": re.compile(re.escape(TOKEN)),
    "a token-shaped string": re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"),
    "a Bot API URL with a token": re.compile(r"/bot\d+:"),
    "a rating": re.compile(r"rating\s*=\s*\d"),
    "SQL parameters": re.compile(r"\[parameters: |partial\(<built-in method execute"),
}


class Capture(logging.Handler):
    """Formats every record it is given with the bot's text formatter and keeps the lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.formatter("text", secret=None))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def leaks(text: str, words: set[str] = frozenset()) -> list[str]:
    """What of LEAKS, or of these patients' words, the log text holds."""
    found = [f"{what}: {m.group(0)!r}" for what, pattern in LEAKS.items() if (m := pattern.search(text))]
    return found + [f"a patient's name: {w!r}" for w in sorted(words) if w in text]


def patient_words(funcargs: dict) -> set[str]:
    """The Telegram first names of the test's users (what the 'use my Telegram name' button stores)."""
    from telegram_standin import StandIn

    words: set[str] = set()
    for value in funcargs.values():
        standin = value if isinstance(value, StandIn) else getattr(value, "standin", None)
        if isinstance(standin, StandIn):
            words |= {u.get("first_name", "") for u in standin.state.users.values()}
    return {w for w in words if len(w) >= 2}


@pytest.fixture(autouse=True)
def log_scan(request):
    """Every end-to-end test: its whole log output is scanned when it ends (teardown included)."""
    if "e2e" not in request.node.path.parts:
        yield None
        return
    capture = Capture()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    logs.quiet_libraries()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    problems = leaks(capture.text, patient_words(request.node.funcargs))
    assert not problems, f"the log output of {request.node.name} holds {problems}"
