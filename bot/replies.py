"""`Reply` and its helpers, re-exported from the messaging port (bot/coaching/messages.py), where they live.

Button values (callback data) are built and parsed in bot/callbacks.py.
"""

from bot.coaching.messages import Buttons, Reply, closed, join

__all__ = ["Buttons", "Reply", "closed", "join"]
