"""In-memory model of what the stand-in has seen: users, chats, sent messages, files, updates."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .markup import plain_text

Button = tuple[str, str | None]


@dataclass(slots=True, eq=False)
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" / "document" / "sticker" / "video"
    data: bytes | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None
    url: str | None = None  # when the bot sent a URL instead of bytes

    @property
    def file_path(self) -> str:
        return f"{self.kind}s/{self.file_unique_id}"


@dataclass(slots=True, eq=False)
class SentMessage:
    """One message the bot sent (and possibly edited or deleted). ``message_id`` is per chat."""

    chat_id: int
    message_id: int
    date: int
    kind: str  # "text" / "photo" / "document" / "video"
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    entities: list[dict[str, Any]] | None = None  # sendMessage's `entities` (e.g. text links), as sent
    file: StoredFile | None = None
    disable_notification: bool = False
    edits: int = 0
    edit_date: int | None = None
    deleted: bool = False

    # -- convenient views -------------------------------------------------------------------------
    @property
    def body(self) -> str | None:
        """``text`` for text messages, ``caption`` otherwise."""
        return self.text if self.kind == "text" else self.caption

    @property
    def plain(self) -> str | None:
        """The body with parse_mode markup removed (what the user sees)."""
        body = self.body
        return None if body is None else plain_text(body, self.parse_mode)

    @property
    def buttons(self) -> list[list[Button]]:
        """Inline keyboard as rows of ``(text, callback_data)`` (callback_data None for URL buttons)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(b.get("text", ""), b.get("callback_data")) for b in row] for row in rows]

    def links(self) -> list[tuple[str, str]]:
        """The text links of a text message: (the linked characters, the URL)."""
        body = (self.text or "").encode("utf-16-le")
        return [(body[e["offset"] * 2:(e["offset"] + e["length"]) * 2].decode("utf-16-le"), e.get("url", ""))
                for e in self.entities or [] if e.get("type") == "text_link"]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Reply keyboard rows (button texts) if this message set one."""
        rows = (self.reply_markup or {}).get("keyboard")
        if rows is None:
            return None
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    @property
    def file_bytes(self) -> bytes | None:
        return self.file.data if self.file else None

    @property
    def file_name(self) -> str | None:
        return self.file.file_name if self.file else None

    def find_button(self, text: str) -> str | None:
        for row in self.buttons:
            for btn_text, data in row:
                if btn_text == text:
                    return data
        raise KeyError(f"no button {text!r} on message {self.message_id}; buttons: {self.button_texts}")

    # -- serialisation ----------------------------------------------------------------------------
    def to_api(self, bot_user: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        """The Telegram ``Message`` object for this message."""
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot_user,
            "chat": chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        plain = self.plain
        if self.kind == "text":
            msg["text"] = plain
        else:
            f = self.file
            assert f is not None
            if self.kind == "photo":
                msg["photo"] = [photo_size(f)]
            elif self.kind == "video":
                msg["video"] = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": 640, "height": 360,
                                "duration": 10}
            else:
                doc = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
                for key in ("file_name", "mime_type", "file_size"):
                    if getattr(f, key) is not None:
                        doc[key] = getattr(f, key)
                msg["document"] = doc
            if plain is not None:
                msg["caption"] = plain
        markup = self.reply_markup
        if markup and "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
            msg["reply_markup"] = markup
        return msg

    def to_json(self) -> dict[str, Any]:
        """Compact view for the ``/_standin`` HTTP API."""
        out: dict[str, Any] = {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "date": self.date,
            "kind": self.kind,
            "text": self.text,
            "caption": self.caption,
            "plain": self.plain,
            "parse_mode": self.parse_mode,
            "buttons": [[list(b) for b in row] for row in self.buttons],
            "reply_keyboard": self.reply_keyboard,
            "removes_keyboard": self.removes_keyboard,
            "edits": self.edits,
            "deleted": self.deleted,
            "disable_notification": self.disable_notification,
        }
        if self.file is not None:
            out["file_name"] = self.file.file_name
            out["file_size"] = self.file.file_size
            out["mime_type"] = self.file.mime_type
            out["file_id"] = self.file.file_id
        return out

    def summary(self) -> str:
        body = self.body if self.body is not None else ""
        extra = f" buttons={self.button_texts}" if self.buttons else ""
        gone = " (deleted)" if self.deleted else ""
        return f"#{self.message_id} [{self.kind}] {body[:80]!r}{extra}{gone}"


def photo_size(f: StoredFile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file_id": f.file_id,
        "file_unique_id": f.file_unique_id,
        "width": f.width or 512,
        "height": f.height or 512,
    }
    if f.file_size is not None:
        out["file_size"] = f.file_size
    return out


@dataclass(slots=True)
class Chat:
    chat_id: int
    next_message_id: int = 1
    messages: dict[int, SentMessage] = field(default_factory=dict)  # bot messages, in send order
    rev: int = 0  # bumped on every send/edit/delete

    def take_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


def new_stats() -> dict[str, Any]:
    return {
        "requests": {},
        "requests_total": 0,
        "messages_delivered": 0,
        "edits": 0,
        "deletes": 0,
        "chat_actions": 0,
        "callback_answers": 0,
        "rejected_400": 0,
        "rejected_403": 0,
        "rejected_429": 0,
        "rejected_429_limits": 0,
        "rejected_429_burst": 0,
        "faults_5xx": 0,
        "timeouts": 0,
        "updates_queued": 0,
        "updates_fetched": 0,
        "webhook_posts": 0,
        "webhook_failures": 0,
        "webhook_dropped": 0,
    }


class State:
    """All mutable data. Methods here are synchronous; the server notifies waiters."""

    def __init__(self, *, record_bodies: bool = True) -> None:
        self.record_bodies = record_bodies
        self.reset()

    def reset(self) -> None:
        self.users: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}  # group, supergroup and channel chats by id (negative)
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.updates: deque[dict[str, Any]] = deque()  # not yet confirmed by the bot
        self.next_update_id = 10_000
        self.last_fetch_offset = 0
        self.pending_queries: dict[str, dict[str, Any]] = {}  # unanswered callback queries
        self.callback_answers: list[tuple[str, str | None, bool]] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.blocked: set[int] = set()
        self.unblocked: set[int] = set()  # overrides Faults.blocked_rate
        self.stats: dict[str, Any] = new_stats()
        self._counter = 0
        self.version = 0  # bumped on any change; used for waiting

    def next_serial(self) -> int:
        self._counter += 1
        return self._counter

    @staticmethod
    def now() -> int:
        return int(time.time())

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(chat_id)
        return chat

    def user(self, user_id: int, first_name: str | None = None, username: str | None = None) -> dict:
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or "テスト",
                "language_code": "ja",
            }
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return user

    def group(self, chat_id: int, kind: str = "group", title: str | None = None) -> dict[str, Any]:
        """A group, supergroup or channel chat (Telegram gives them negative ids)."""
        if kind not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {kind!r}")
        group = self.groups.get(chat_id)
        if group is None:
            group = self.groups[chat_id] = {"id": chat_id, "type": kind, "title": title or f"{kind} {chat_id}"}
        return group

    def chat_object(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.groups:
            return dict(self.groups[chat_id])
        user = self.users.get(chat_id)
        chat: dict[str, Any] = {
            "id": chat_id,
            "type": "private",
            "first_name": user["first_name"] if user else "User",
        }
        if user and "username" in user:
            chat["username"] = user["username"]
        return chat

    def add_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_update_id, **payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.stats["updates_queued"] += 1
        self.version += 1
        return update

    def new_file(self, kind: str, **kwargs: Any) -> StoredFile:
        n = self.next_serial()
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "video": "BAAC"}.get(kind, "AAAC")
        f = StoredFile(file_id=f"{prefix}standin{n:08d}", file_unique_id=f"AQAD{n:08d}", kind=kind, **kwargs)
        if not self.record_bodies:
            f.data = None
        self.files[f.file_id] = f
        return f

    def bump(self) -> None:
        self.version += 1
