"""A local stand-in of the LINE Messaging API (api.line.me) for tests, benchmarks and chat-mode trials.

Imports nothing of bot/ or rules/: the standard library and aiohttp only. See README.md.
"""

from .messages import ApiError, LineMessage, new_group_id, new_user_id
from .server import LineStandin, NoSuchButton

__all__ = ["ApiError", "LineMessage", "LineStandin", "NoSuchButton", "new_group_id", "new_user_id"]
