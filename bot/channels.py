"""Which messenger a person uses, and the one Channel (bot/coaching/messages.py) that sends to anyone.

Every person has one number, used by every table keyed by a messenger's user id (`telegram_user_id`,
`chat_id`): on Telegram, Telegram's own user id (at most 52 bits); on LINE, LINE_ID_BASE + the row id of the
person's `line_user` row (storage/line.py). So the number alone says which channel reaches a person, and a
clinic's one database and one clinician side serve both channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.coaching.messages import Answering, Channel, Rejected, Reply

ChannelName = Literal["telegram", "line"]
LINE_ID_BASE = 2**53  # above every Telegram user id (52 significant bits at most)


def channel_of(user_id: int) -> ChannelName:
    """The messenger behind a person's number."""
    return "line" if user_id >= LINE_ID_BASE else "telegram"


class Channels:
    """The messaging port for handlers and delivery: each chat's messages go to its messenger's adapter."""

    def __init__(self, telegram: Channel, line: Channel | None = None) -> None:
        self.adapters: dict[ChannelName, Channel | None] = {"telegram": telegram, "line": line}

    async def send(self, chat_id: int, replies: Sequence[Reply], *, key: str | None = None,
                   answering: Answering | None = None) -> None:
        adapter = self.adapters[channel_of(chat_id)]
        if adapter is None:  # a LINE patient while LINE is not configured (settings removed)
            raise Rejected(f"no {channel_of(chat_id)} channel configured")
        await adapter.send(chat_id, replies, key=key, answering=answering)
