"""What coaching says, whatever the messenger: the messaging port.

Coaching and delivery produce `Reply` values; a channel adapter renders and sends them (Telegram today:
bot/telegram_channel.py; chat mode drives the same adapter through the stand-in). Nothing here knows a
messenger's types. The contract (docs/architecture.md, "The messaging port"):

- text, plain (no markup), short enough for a phone;
- choice buttons as rows of (label, value): the value is callback data from bot/callbacks.py; a batch's
  buttons go on its last message (LINE shows quick replies on the last message only, up to 13 of them);
- a link to a person's chat on part of the text (`link`: staff notices open the patient's chat);
- a picture (PNG bytes with `picture_id`, a stable name each channel may cache or host under) or a document;
- a priority: `safety` (red flags, alerts: always sent), `essential` (questions, answers, reminders) or
  `optional` (the weekly explanation): a channel that pays per push may hold back optional ones.

A channel's `send` takes one chat's messages of one answer or one due row together (LINE bundles up to 5 in
one request) and raises the port's errors, never its own: `Blocked` (the person blocked the bot),
`RetryLater(after)`, `Rejected(reason)` (the message can never be sent), `Unavailable(reason)` (try again
with back-off) or `Held(reason)` (not sent, on purpose: a paid channel's monthly cap; never retried).
`key` names what is being sent (an outbox row), the same on every retry, so a channel with idempotency keys
(LINE's X-Line-Retry-Key) never delivers a retried message twice; `answering` marks a handler's answer to
what the person just did (Telegram: the interactive lane; LINE: the free reply token while it is valid).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bot.i18n import t

Buttons = list[list[tuple[str, str]]]
BUTTONS_MAX = 13  # buttons on a batch's last message (LINE shows at most 13 quick replies)
BUTTON_LABEL_MAX = 20  # characters of a button's label (LINE cuts a quick reply's label there)
Priority = Literal["safety", "essential", "optional"]


@dataclass
class Reply:
    text: str
    buttons: Buttons = field(default_factory=list)
    document: tuple[str, bytes] | None = None  # (file name, content)
    photo: bytes | None = None  # a PNG/JPEG sent as a picture; `text` is its caption (at most 1024 characters)
    picture_id: str | None = None  # a stable name for `photo` (a channel may cache or host it under this name)
    priority: Priority = "essential"
    # a part of `text` that opens a person's chat when tapped: (that text, their messenger user id); on
    # Telegram a tg://user?id= link on those characters (staff notices: the patient's chat)
    link: tuple[str, int] | None = None


def to_payload(reply: Reply) -> dict[str, Any]:
    """A Reply as JSON (an outbox row's payload: a handler's answer kept until it is sent)."""
    out: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        out["buttons"] = reply.buttons
    if reply.document is not None:
        out["document"] = [reply.document[0], base64.b64encode(reply.document[1]).decode("ascii")]
    if reply.photo is not None:
        out["photo"] = base64.b64encode(reply.photo).decode("ascii")
    if reply.picture_id is not None:
        out["picture_id"] = reply.picture_id
    if reply.priority != "essential":
        out["priority"] = reply.priority
    if reply.link is not None:
        out["link"] = list(reply.link)
    return out


def from_payload(data: dict[str, Any]) -> Reply:
    """The Reply `to_payload` made."""
    document = data.get("document")
    photo = data.get("photo")
    link = data.get("link")
    buttons = [[(label, value) for label, value in row] for row in data.get("buttons", [])]
    return Reply(text=data["text"], buttons=buttons,
                 document=(document[0], base64.b64decode(document[1])) if document else None,
                 photo=base64.b64decode(photo) if photo else None, picture_id=data.get("picture_id"),
                 priority=data.get("priority", "essential"), link=(link[0], int(link[1])) if link else None)


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def closed() -> Reply:
    return Reply(t("common.closed"))


class Blocked(Exception):
    """The person blocked the bot (Telegram 403): stop writing to them until they write again."""


class RetryLater(Exception):
    """The channel asks us to slow down: try this message again after `after` seconds."""

    def __init__(self, after: float) -> None:
        super().__init__(f"retry after {after} s")
        self.after = after


class Rejected(Exception):
    """The channel refused this message for good (a bad request): record it, do not retry."""


class Unavailable(Exception):
    """Timeouts, server errors, network trouble: retry with back-off."""


class Held(Exception):
    """Not sent on purpose (a paid channel's monthly cap reached for this priority): recorded, never retried."""


PRIORITY_ORDER: dict[Priority, int] = {"optional": 0, "essential": 1, "safety": 2}


def priority_of(replies: Sequence[Reply]) -> Priority:
    """The priority of messages sent together: the highest of theirs."""
    return max((r.priority for r in replies), key=PRIORITY_ORDER.__getitem__, default="essential")


@dataclass(frozen=True)
class Answering:
    """A handler's answer to what the person did: on LINE, the event's reply token (free, valid for about a
    minute after `received_at`)."""

    received_at: datetime
    reply_token: str | None = None


class Channel(Protocol):
    """A messenger adapter, as handlers and delivery see it."""

    async def send(self, chat_id: int, replies: Sequence[Reply], *, key: str | None = None,
                   answering: Answering | None = None) -> None: ...
