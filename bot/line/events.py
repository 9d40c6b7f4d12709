"""LINE webhook events as the updates the handlers already read.

A LINE event becomes the Bot API update a Telegram user doing the same would cause: a text message is a
message (a leading "/" a command), a tapped quick reply (postback) a button press carrying the same callback
data, a follow /start. So the same handlers, in the same order (bot/app.py), serve both channels, and the
inbox (bot/updates.py) stores and hands out LINE events exactly as Telegram's. The update keeps the event's
reply token and when it came (`line`), for the answer (bot/handlers/common.py: `answering`).

Anything else a LINE user sends (a sticker, a photo, a location) is a sticker here: the handlers answer it with
the same kind line as on Telegram. Events from groups and rooms are not turned into updates (bot/line/server.py
ignores them: nobody's health data goes to a group).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

COMMAND = "cmd:"  # a quick reply that runs a command (the LINE menu): postback data "cmd:today"


def update_id_of(webhook_event_id: str) -> int:
    """A LINE event's number in the inbox: negative (Telegram's update ids are positive) and the same for a
    redelivered event (LINE sends the same webhookEventId again), so it is handled once."""
    return -1 - int.from_bytes(hashlib.sha256(webhook_event_id.encode()).digest()[:7], "big")


def _message(number: int, when: int, text: str | None) -> dict[str, Any]:
    msg: dict[str, Any] = {"message_id": 1, "date": when, "chat": {"id": number, "type": "private"},
                           "from": {"id": number, "is_bot": False, "first_name": ""}}
    if text is None:  # a sticker, a photo ...: what the handlers answer as "not understood"
        msg["sticker"] = {"file_id": "line", "file_unique_id": "line", "width": 1, "height": 1, "is_animated": False,
                          "is_video": False, "type": "regular"}
        return msg
    msg["text"] = text
    if text.startswith("/"):
        word = text.split()[0]
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(word)}]
    return msg


def to_update(event: dict[str, Any], number: int, received_at: datetime) -> dict[str, Any] | None:
    """The update for one event of a person (`number`: theirs, bot/channels.py); None for an event that asks
    nothing of the handlers (unfollow, read receipts, ...)."""
    kind = event.get("type")
    when = int(event.get("timestamp") or 0) // 1000
    # LINE gives every event a webhookEventId; without one, the event itself names it (never "" for all)
    event_id = str(event.get("webhookEventId") or json.dumps(event, sort_keys=True, ensure_ascii=False))
    base: dict[str, Any] = {"update_id": update_id_of(event_id),
                            "line": {"reply_token": event.get("replyToken"), "received_at": received_at.isoformat()}}
    if kind == "message":
        message = event.get("message") or {}
        text = message.get("text") if message.get("type") == "text" else None
        return {**base, "message": _message(number, when, str(text) if text is not None else None)}
    if kind == "follow":  # added as a friend (or unblocked): the welcome, as /start
        return {**base, "message": _message(number, when, "/start")}
    if kind == "postback":
        data = str((event.get("postback") or {}).get("data") or "")
        if data.startswith(COMMAND):
            return {**base, "message": _message(number, when, "/" + data.removeprefix(COMMAND))}
        return {**base, "callback_query": {"id": str(base["update_id"]), "chat_instance": "line", "data": data,
                                           "from": {"id": number, "is_bot": False, "first_name": ""},
                                           "message": _message(number, when, "")}}
    return None
