"""What handlers and delivery share: settings, database, clock, the clinic's thresholds.

Kept in `application.bot_data["runtime"]`; nothing per patient lives here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from bot.batching import Batched
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.fair_use import FairUse
from bot.media import MediaLibrary
from bot.storage.db import Database
from bot.storage.outbox import sent_replies
from rules import Thresholds


def load_thresholds(settings: Settings) -> Thresholds:
    if settings.thresholds_file is None:
        return Thresholds()
    try:
        return Thresholds.from_toml(settings.thresholds_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"THRESHOLDS_FILE cannot be read: {exc.strerror}: {settings.thresholds_file}") from None
    except ValueError as exc:
        raise ConfigError(f"THRESHOLDS_FILE {settings.thresholds_file} is invalid: {exc}") from None


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=Clock)
    thresholds: Thresholds = field(default_factory=Thresholds)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    fair_use: FairUse = field(init=False)
    sent_replies: Batched[None] = field(init=False)  # handlers' answers forgotten once sent, in group commits
    media: MediaLibrary = field(init=False)  # pictures by id, and the messengers' file ids (bot/media.py)
    # updates whose handler marked their inbox row done in its own transaction (bot/updates.py takes them out)
    done_updates: dict[int, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.db.writes.now = self.clock.now  # whether writes are failing lately, on the bot's clock
        self.sent_replies = sent_replies(self.db)
        self.media = MediaLibrary(self.db, self.clock)
        s = self.settings
        self.fair_use = FairUse(self.clock, burst=s.throttle_burst, per_minute=s.throttle_per_minute,
                                invite_attempts=s.invite_attempts,
                                invite_window=timedelta(minutes=s.invite_window_minutes))
