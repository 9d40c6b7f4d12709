"""Every handler goes through the one set-up (bot/handlers/common.py: role, private chats, session)."""

from __future__ import annotations

from bot.app import build_application
from bot.config import Settings
from tests.harness import TOKEN


def test_every_handler_is_wrapped_by_the_set_up(tmp_path):
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    app = build_application(settings, run_delivery_job=False, migrate=False)
    callbacks = [h.callback for group in app.handlers.values() for h in group]
    assert len(callbacks) > 25
    unwrapped = [c.__qualname__ for c in callbacks if getattr(c, "role", None) is None]
    assert unwrapped == []
