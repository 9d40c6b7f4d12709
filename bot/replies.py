"""A reply to send (text + inline buttons), independent of who sends it (a handler or delivery).

Button values (callback data) are built and parsed in bot/callbacks.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import t

Buttons = list[list[tuple[str, str]]]


@dataclass
class Reply:
    text: str
    buttons: Buttons = field(default_factory=list)
    document: tuple[str, bytes] | None = None  # (file name, content)
    photo: bytes | None = None  # a PNG/JPEG sent as a photo; `text` is its caption (at most 1024 characters)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in self.buttons]
        )


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def closed() -> Reply:
    return Reply(t("common.closed"))
