"""A local Telegram Bot API stand-in for driving python-telegram-bot without Telegram.

    async with StandIn(token) as tg:
        async with telegram.Bot(token, base_url=tg.base_url) as bot:
            ...

See :class:`StandIn` for the in-process test API and :mod:`telegram_standin.control` for the same API
over HTTP under ``/_standin/``.
"""

from .faults import Faults
from .params import ApiError
from .server import StandIn
from .state import SentMessage

__all__ = ["ApiError", "Faults", "SentMessage", "StandIn"]
