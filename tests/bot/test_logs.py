"""The token never reaches a log line, a traceback or our own exception messages; start-up failures are one
line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys

import pytest
from telegram.error import NetworkError

from bench.common import free_port
from bot.logs import JsonLines, RedactingFormatter, redact
from bot.telegram_http import AiohttpRequest
from telegram_standin import StandIn

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"
OTHER = "987654321:ZZyyXXwwVVuuTTssRRqqPPooNNmmLLkkJJ"


def _record_with_traceback(message: str) -> logging.LogRecord:
    try:
        try:
            raise ValueError(f"request to https://api.telegram.org/bot{TOKEN}/getMe failed")
        except ValueError as inner:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.") from inner
    except RuntimeError:
        exc_info = sys.exc_info()
    return logging.LogRecord("telegram.ext", logging.ERROR, "", 0, message, (), exc_info)


@pytest.mark.parametrize("formatter", [RedactingFormatter(TOKEN), RedactingFormatter(None), JsonLines(TOKEN),
                                       JsonLines(None)], ids=["text", "text-no-secret", "json", "json-no-secret"])
def test_tracebacks_and_exception_text_are_redacted(formatter):
    line = formatter.format(_record_with_traceback(f"polling failed at /bot{TOKEN}/getUpdates"))
    assert TOKEN not in line and "123456789:" not in line
    assert "Traceback" in line and "/bot<token>/getMe" in line and "ValueError" in line
    if isinstance(formatter, JsonLines):
        assert "<token>" in json.loads(line)["error"]


def test_redact_covers_bot_urls_with_any_token_and_leaves_other_text():
    assert redact(f"http://127.0.0.1:1/bot{OTHER}/getMe", TOKEN) == "http://127.0.0.1:1/bot<token>/getMe"
    assert redact("GET /file/bot12:short/photos/a.jpg") == "GET /file/bot<token>/photos/a.jpg"
    assert redact("patient 42 at 12:30, /bottle/") == "patient 42 at 12:30, /bottle/"


@pytest.mark.parametrize("base", ["htp://127.0.0.1:1/bot", "http://127.0.0.1:99999/bot", "http://[::1:1/bot"])
async def test_our_network_error_does_not_name_the_token(base):
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"{base}{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert TOKEN not in str(caught.value) and "123456789:" not in str(caught.value)


async def _start_bot(env: dict[str, str], cwd) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env={**clean, "TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "DEBUG", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode()


@pytest.mark.parametrize(("env", "says"), [
    ({"TELEGRAM_API_BASE_URL": "htp://127.0.0.1:{port}/bot"}, "cannot reach the Telegram Bot API"),
    ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:{port}/bot"}, "cannot reach the Telegram Bot API"),
    ({"TELEGRAM_API_BASE_URL": "http://127.0.0.1:{port}0000/bot"}, "cannot reach the Telegram Bot API"),
    ({"DATABASE_URL": "sqlite+aiosqlite:///no/such/dir/coach.db"}, "cannot open the database"),
    ({"DATABASE_URL": "postgresql+asyncpg://coach:pw-secret@127.0.0.1:{port}/coach"}, "cannot open the database"),
], ids=["mistyped-scheme", "unreachable-port", "bad-port", "sqlite-unopenable", "postgres-unreachable"])
async def test_start_up_failure_is_one_line_without_token(tmp_path, env, says):
    port = free_port()  # nothing listens there
    env = {k: v.format(port=port) for k, v in env.items()}
    code, out = await _start_bot(env, tmp_path)
    assert code == 1 and out.count("\n") == 1 and out.startswith("itami-coach: ") and says in out, out
    assert "Traceback" not in out and TOKEN not in out and "123456789:" not in out and "pw-secret" not in out


async def test_revoked_token_is_one_line_without_token(tmp_path):
    async with StandIn(token=OTHER) as telegram:  # answers 401 to any other token
        code, out = await _start_bot({"TELEGRAM_API_BASE_URL": telegram.base_url,
                                      "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"}, tmp_path)
    assert code == 1 and out.count("\n") == 1 and "rejected TELEGRAM_BOT_TOKEN" in out and "BotFather" in out, out
    assert "Traceback" not in out and TOKEN not in out
