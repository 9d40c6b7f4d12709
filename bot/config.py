"""Settings, read once from the environment and `.env` (see `.env.example` for every key)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import hints

# BotFather tokens look like 123456789:AA...; 30+ url-safe characters after the colon.
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")

TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN is {problem}. Create a bot with @BotFather in Telegram (/newbot), copy the token "
    "it gives you into .env as TELEGRAM_BOT_TOKEN=..., and start again. "
    "To try the coach without Telegram, run: {chat}"
)


class ConfigError(SystemExit):
    """A one-line, human explanation of a bad setting; exits the process with status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


class StartupError(Exception):
    """Start-up cannot go on (database or Telegram unreachable, token revoked): one line, exit status 1."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = Field(
        default=None, description="python-telegram-bot base_url, e.g. http://127.0.0.1:8081/bot"
    )
    database_url: str = "sqlite+aiosqlite:///coach.db"
    clinic_timezone: str = "Asia/Tokyo"
    trial_days: int = Field(default=14, ge=1, le=365)
    trial_target_per_week: int = Field(default=5, ge=1, le=7)  # sessions a week, told on day 1 of a trial
    trial_end_notice_days: int = Field(default=2, ge=0, le=30)
    # outcome measures (rules/outcomes/*.toml) at signup, every 14 days and at the trial's end (docs/outcomes.md)
    outcomes_enabled: bool = True
    thresholds_file: Path | None = None

    # Delivery (reminders, prompts, alerts): see docs/architecture.md
    delivery_interval_seconds: float = Field(default=5.0, gt=0, le=60)
    delivery_batch_size: int = Field(default=200, ge=1, le=5000)
    delivery_concurrency: int = Field(default=32, ge=1, le=512)
    delivery_lease_seconds: int = Field(default=45, ge=10, le=3600)
    reminder_repeat_after_minutes: int = Field(default=60, ge=5, le=720)
    reminder_repeats: int = Field(default=1, ge=0, le=3)
    snooze_minutes: int = Field(default=30, ge=5, le=240)
    during_prompt_after_minutes: int = Field(default=10, ge=1, le=120)
    after_prompt_after_minutes: int = Field(default=30, ge=1, le=240)

    # Telegram's limits: about 30 messages/s overall, about 1/s per chat.
    rate_limit_per_second: float = Field(default=30.0, gt=0)
    rate_limit_enabled: bool = True

    # Clinicians (issue 4)
    admin_telegram_ids: list[int] = Field(default_factory=list)
    staff_chat_id: int | None = None
    default_clinician_id: int | None = None  # clinician.id given to new patients without an invite link
    invite_valid_hours: int = Field(default=72, ge=1, le=24 * 30)
    summary_weekday: int = Field(default=0, ge=0, le=6)  # 0 = Monday ... 6 = Sunday, clinic time zone
    summary_time: str = "08:00"  # "HH:MM", clinic time zone
    summary_max_patient_charts: int = Field(default=20, ge=0, le=200)

    # The clinic, as every red-flag advice names it (docs/clinical.md): its name, phone and hours, and the
    # out-of-hours advice line (#7119 by default; it does not cover every prefecture: set your area's).
    # Unset, patients see a clear placeholder and start-up and `status` warn (bot/ops.py: warnings).
    clinic_name: str | None = None
    clinic_phone: str | None = None
    clinic_hours: str | None = None
    clinic_advice_line: str = "#7119"
    # When staff answer patients' questions (「質問する」), machine-readable, clinic time zone:
    # "mon-fri 09:00-18:00, sat 09:00-13:00" (days mon..sun, a range or one day; several blocks by comma).
    # Outside them a patient asking is told when to expect an answer. Empty: always "soon".
    clinic_open_hours: str | None = None
    # An emergency alert nobody marked 「対応しました」 within this many minutes is sent again to the admins
    # and the staff chat (bot/alerts.py)
    alert_renotify_minutes: int = Field(default=15, ge=1, le=24 * 60)

    # Fair use (bot/fair_use.py, in memory per process): per-user burst and sustained rate of updates;
    # wrong invite codes allowed per user within the window
    throttle_burst: int = Field(default=20, ge=1, le=10_000)
    throttle_per_minute: float = Field(default=30.0, gt=0)
    invite_attempts: int = Field(default=5, ge=1, le=1000)
    invite_window_minutes: int = Field(default=10, ge=1, le=24 * 60)

    # Data protection (APPI, docs/operations.md "Security"): an ended patient's data is erased this many
    # days after their program ended (daily check); abandoned enrolments after ABANDONED_SIGNUP_DAYS.
    retention_days_after_end: int = Field(default=365, ge=1, le=3650)

    log_level: str = "INFO"
    log_format: str = Field(default="text", pattern="^(text|json)$")

    # Webhook mode (python -m bot --webhook), for several instances behind a load balancer
    webhook_url: str | None = None  # the public HTTPS URL Telegram posts to, e.g. https://coach.example.jp/tg
    webhook_listen: str = "127.0.0.1"  # the address this process listens on (behind the proxy)
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None  # checked against X-Telegram-Bot-Api-Secret-Token
    # Health endpoint: GET http://127.0.0.1:<port>/health (queue depth, last delivery, errors); 0 = off
    health_port: int = Field(default=0, ge=0, le=65535)

    # LINE (docs/operations.md, "LINE"): on when the channel secret and access token are both set
    line_channel_secret: SecretStr | None = None  # checks X-Line-Signature on every webhook
    line_channel_access_token: SecretStr | None = None  # a long-lived channel access token
    line_api_base_url: str = "https://api.line.me"  # the LINE stand-in's URL in tests and trials
    line_public_url: str | None = None  # the public HTTPS base the proxy serves /line/ under (webhook, pictures)
    line_listen: str = "127.0.0.1"  # where this process serves /line/webhook and /line/media (behind the proxy)
    line_port: int = Field(default=8444, ge=1, le=65535)
    line_monthly_cap: int = Field(default=0, ge=0)  # pushes a month the clinic allows itself; 0 = no cap of ours
    line_optional_until_percent: int = Field(default=80, ge=0, le=100)  # optional pushes stop at this share
    line_safety_reserve_percent: int = Field(default=10, ge=0, le=100)  # kept for safety pushes alone
    line_reply_token_seconds: float = Field(default=50.0, gt=0, le=600)  # a reply token is used only this fresh

    @field_validator("clinic_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Asia/Tokyo)") from exc
        return value

    @field_validator("summary_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"use HH:MM (24-hour clock), got {value!r}")
        return value

    @field_validator("clinic_open_hours")
    @classmethod
    def _open_hours(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            open_hours(value)  # raises ValueError with what is wrong
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        """Telegram posts updates (patients' words) here: HTTPS only. Plain http is accepted for a loopback
        host alone (the Bot API stand-in or a local Bot API server on this machine)."""
        return _https_or_loopback(value, "use the public HTTPS URL Telegram posts updates to, e.g. "
                                         "https://coach.example.jp/tg")

    @field_validator("line_public_url", "line_api_base_url")
    @classmethod
    def _https_line(cls, value: str | None) -> str | None:
        """LINE shows pictures only from HTTPS URLs and its API is HTTPS: plain http for a loopback host alone
        (the LINE stand-in, a trial on this machine)."""
        checked = _https_or_loopback(value, "use an https:// URL, e.g. https://coach.example.jp")
        return checked.rstrip("/") if checked is not None else None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db")
        return value

    def missing_clinic_settings(self) -> list[str]:
        """The clinic settings every red-flag advice needs and that are not set (names as in .env)."""
        return [name.upper() for name in ("clinic_name", "clinic_phone", "clinic_hours")
                if not (getattr(self, name) or "").strip()]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.clinic_timezone)

    def require_webhook(self) -> tuple[str, str]:
        """(url, secret) for webhook mode, or a ConfigError saying what is missing."""
        if not self.webhook_url:
            raise ConfigError("WEBHOOK_URL must be the public URL Telegram posts updates to (https://...)")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ConfigError("WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ or -")
        return self.webhook_url, secret

    @property
    def line_enabled(self) -> bool:
        """LINE is configured: both its secrets are set (`require_line` says what is missing if only one is)."""
        return bool(self.line_channel_secret or self.line_channel_access_token)

    def require_line(self) -> tuple[str, str, str]:
        """(channel secret, access token, public URL) for the LINE channel, or a ConfigError saying what is
        missing."""
        secret = self.line_channel_secret.get_secret_value().strip() if self.line_channel_secret else ""
        token = self.line_channel_access_token.get_secret_value().strip() if self.line_channel_access_token else ""
        if not secret or not token:
            raise ConfigError("LINE needs both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN "
                              "(LINE Developers console, the Messaging API channel): set both, or neither")
        if not self.line_public_url:
            raise ConfigError("LINE_PUBLIC_URL must be the public https:// address the proxy serves /line/ under "
                              "(LINE fetches pictures from it)")
        return secret, token, self.line_public_url

    def require_token(self) -> str:
        """The token for talking to Telegram, or a ConfigError explaining how to get one."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value().strip():
            raise ConfigError(TOKEN_HELP.format(problem="not set", chat=hints.command("chat")))
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise ConfigError(TOKEN_HELP.format(problem="not a valid bot token", chat=hints.command("chat")))
        return token


def _https_or_loopback(value: str | None, problem: str) -> str | None:
    """An https:// URL, or plain http for a loopback host alone (a stand-in or a local server on this machine)."""
    if value is None:
        return value
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or not (parts.scheme == "https" or loopback):
        raise ValueError(problem)
    return value


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BLOCK = re.compile(r"(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+"
                    r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")


def open_hours(value: str | None) -> dict[int, list[tuple[int, int]]]:
    """CLINIC_OPEN_HOURS -> {weekday (0 = Monday): [(from, until) in minutes of the day]}; {} when unset.
    ValueError naming the block that cannot be read."""
    found: dict[int, list[tuple[int, int]]] = {}
    for block in (b.strip().lower() for b in (value or "").split(",") if b.strip()):
        m = _BLOCK.fullmatch(block)
        if m is None:
            raise ValueError(f"cannot read {block!r}: use e.g. 'mon-fri 09:00-18:00, sat 09:00-13:00'")
        first, last = DAYS.index(m[1]), DAYS.index(m[2] or m[1])
        start, end = int(m[3]) * 60 + int(m[4]), int(m[5]) * 60 + int(m[6])
        if end <= start or last < first:
            raise ValueError(f"cannot read {block!r}: the end must come after the start")
        for day in range(first, last + 1):
            found.setdefault(day, []).append((start, end))
    return found


def load_settings(**overrides: Any) -> Settings:  # Any: pydantic checks names and values
    """Read settings once; a malformed value becomes a one-line ConfigError, never a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"Setting {field.upper()} is invalid: {first.get('msg')}") from None
