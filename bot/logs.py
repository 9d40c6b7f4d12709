"""Logging: every formatted record (message, traceback, exception text) passes through `redact()`, so the
bot token never reaches a log, and libraries that would log patients' words are kept above DEBUG.

What is redacted, wherever it appears in the formatted text:
- the configured token;
- any Bot API URL path `/bot<token>/` and `/file/bot<token>/` (another or a mistyped token too);
- anything shaped like a BotFather token (`123456789:AA...`, 30+ url-safe characters after the colon).

Health data stays out by construction rather than by pattern: our own messages carry ids, never a
patient's words; the database engine hides SQL parameters (bot/storage/db.py, `hide_parameters=True`);
and the libraries that log request bodies or SQL parameters at DEBUG are held at INFO or above
(`QUIET`), whatever LOG_LEVEL says. tests/logscan.py checks all of it over the whole end-to-end suite.
"""

from __future__ import annotations

import json
import logging
import re

REDACTED = "<token>"
# /bot<token>/ and /file/bot<token>/ in a URL, whatever the token looks like (up to the next / ? # or space)
_URL_TOKEN = re.compile(r"(/(?:file/)?bot)[^/?#\s'\"]*:[^/?#\s'\"]*")
# a BotFather token anywhere: digits, a colon, 30+ url-safe characters
_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")

# Loggers kept at this level or above whatever LOG_LEVEL is: at DEBUG they print what patients send
# and receive (PTB: request parameters; aiosqlite: each statement with its parameters).
QUIET = {"telegram": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.WARNING,
         "apscheduler": logging.WARNING, "aiosqlite": logging.INFO, "asyncpg": logging.INFO,
         "sqlalchemy": logging.WARNING, "aiohttp": logging.INFO, "alembic": logging.WARNING,
         "asyncio": logging.INFO}


def redact(text: str, secret: str | None = None) -> str:
    """`text` with the token, bot URLs and token-shaped strings replaced by <token>."""
    if secret:
        text = text.replace(secret, REDACTED)
    text = _URL_TOKEN.sub(r"\1" + REDACTED, text)
    return _TOKEN_SHAPE.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """The text format; the whole formatted record (tracebacks included) is redacted."""

    def __init__(self, secret: str | None = None,
                 fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s") -> None:
        super().__init__(fmt)
        self.secret = secret

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secret)


class JsonLines(RedactingFormatter):
    """One JSON object per line for log collectors. Messages carry ids only, never patients' words."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
               "message": redact(record.getMessage(), self.secret)}
        if record.exc_info:
            out["error"] = redact(self.formatException(record.exc_info), self.secret)
        return json.dumps(out, ensure_ascii=False)


def formatter(fmt: str = "text", secret: str | None = None) -> logging.Formatter:
    return JsonLines(secret) if fmt == "json" else RedactingFormatter(secret)


def quiet_libraries() -> None:
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)


def setup(level: str = "INFO", token: str | None = None, fmt: str = "text") -> None:
    logging.basicConfig(level=level)
    logging.getLogger().setLevel(level)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter(fmt, token))
    quiet_libraries()
