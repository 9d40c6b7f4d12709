"""Settings: .env.example works as it is; a missing or malformed setting stops start-up with one line,
never a traceback, and the token is never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"


def run_bot(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "CLINIC_", "LINE_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env={**clean, **env},
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_env_example_loads_with_every_setting_known(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///coach.db" and settings.trial_days == 14
    assert settings.telegram_bot_token is None and settings.staff_chat_id is None
    # the clinic's contact is empty until configured; the advice line keeps its default (# is not a comment)
    assert settings.clinic_advice_line == "#7119" and settings.alert_renotify_minutes == 15
    assert settings.missing_clinic_settings() == ["CLINIC_NAME", "CLINIC_PHONE", "CLINIC_HOURS"]
    keys = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
            if line and not line.startswith("#")}
    assert keys == {name.upper() for name in Settings.model_fields}


@pytest.mark.parametrize(("token", "problem"), [("", "not set"), ("hello", "not a valid bot token")])
def test_missing_or_malformed_token_stops_with_one_line(tmp_path, token, problem):
    result = run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": token})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and problem in result.stderr and "BotFather" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "field"), [
    ({"CLINIC_TIMEZONE": "Mars/Base"}, "CLINIC_TIMEZONE"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"TRIAL_DAYS": "zero"}, "TRIAL_DAYS"),
])
def test_malformed_setting_is_named(tmp_path, env, field):
    result = run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, **env})
    assert result.returncode == 2 and field in result.stderr and "Traceback" not in result.stderr
    assert GOOD_TOKEN not in result.stderr + result.stdout


def test_unreadable_thresholds_file_is_a_config_error(tmp_path):
    from bot.runtime import load_thresholds

    with pytest.raises(ConfigError, match="THRESHOLDS_FILE"):
        load_thresholds(Settings(_env_file=None, thresholds_file=tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("during_max = 'lots'\n")
    with pytest.raises(ConfigError, match="invalid"):
        load_thresholds(Settings(_env_file=None, thresholds_file=bad))
    good = tmp_path / "good.toml"
    good.write_text("during_max = 2\n")
    assert load_thresholds(Settings(_env_file=None, thresholds_file=good)).during_max == 2


def test_token_is_redacted_from_logs():
    import logging

    from bot.logs import RedactingFormatter

    record = logging.LogRecord("httpx", logging.INFO, "", 0, "POST https://api.telegram.org/bot%s/getMe",
                               (GOOD_TOKEN,), None)
    line = RedactingFormatter(GOOD_TOKEN).format(record)
    assert GOOD_TOKEN not in line and "/bot<token>/getMe" in line


@pytest.mark.parametrize("url", ["http://coach.example.jp/tg", "ftp://coach.example.jp/tg", "coach.example.jp/tg",
                                 "https://"])
def test_webhook_url_must_be_https(url):
    with pytest.raises(ConfigError, match="WEBHOOK_URL") as caught:
        load_settings(_env_file=None, webhook_url=url)
    assert "https://" in str(caught.value) and "\n" not in str(caught.value)


def test_webhook_url_https_or_loopback_is_accepted():
    assert load_settings(_env_file=None, webhook_url="https://coach.example.jp/tg").webhook_url
    assert load_settings(_env_file=None, webhook_url="http://127.0.0.1:8443/tg").webhook_url  # the stand-in


def test_plain_http_webhook_stops_start_up_with_one_line(tmp_path):
    result = run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "WEBHOOK_URL": "http://coach.example.jp/tg",
                                "WEBHOOK_SECRET": "s3cret-webhook-token-1234"}, "--webhook")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "WEBHOOK_URL" in result.stderr
    assert "Traceback" not in result.stderr and GOOD_TOKEN not in result.stderr


def test_clinic_open_hours_are_read_or_refused_in_one_line():
    from bot.config import open_hours

    hours = open_hours("mon-fri 09:00-18:00, sat 09:00-13:00")
    assert hours[0] == hours[4] == [(540, 1080)] and hours[5] == [(540, 780)] and 6 not in hours
    assert open_hours(None) == {} and open_hours(" ") == {}
    for bad in ("weekdays 9-18", "mon-fri 18:00-09:00", "fri-mon 09:00-18:00"):
        with pytest.raises(ConfigError, match="CLINIC_OPEN_HOURS"):
            load_settings(_env_file=None, clinic_open_hours=bad)


@pytest.mark.parametrize(("env", "named"), [
    ({"LINE_CHANNEL_SECRET": "s3cret"}, "LINE_CHANNEL_ACCESS_TOKEN"),
    ({"LINE_CHANNEL_ACCESS_TOKEN": "t0ken"}, "LINE_CHANNEL_SECRET"),
    ({"LINE_CHANNEL_SECRET": "s3cret", "LINE_CHANNEL_ACCESS_TOKEN": "t0ken"}, "LINE_PUBLIC_URL"),
    ({"LINE_CHANNEL_SECRET": "s3cret", "LINE_CHANNEL_ACCESS_TOKEN": "t0ken",
      "LINE_PUBLIC_URL": "http://coach.example.jp"}, "LINE_PUBLIC_URL"),
])
def test_a_half_configured_line_stops_start_up_with_one_line(tmp_path, env, named):
    result = run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, **env})
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr and "t0ken" not in result.stderr
