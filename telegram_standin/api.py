"""The Bot API methods the stand-in implements, with Telegram's results and errors."""

from __future__ import annotations

import asyncio
import mimetypes
import struct
from collections.abc import Awaitable, Callable
from itertools import islice
from typing import Any

from .faults import FaultInjector
from .limits import RateLimits
from .markup import MAX_CAPTION, MAX_TEXT, EntityParseError, plain_text
from .params import ApiError, Params, Upload, bad_request
from .state import SentMessage, State, StoredFile

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"

Handler = Callable[[Params], Awaitable[Any]]


def is_send_method(name: str) -> bool:
    """Methods that are rate limited and subject to faults: send* (not sendChatAction) and edit*."""
    return (name.startswith("send") and name != "sendChatAction") or name.startswith("edit")


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width/height of a PNG or JPEG, else (None, None)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker, seg_len = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + seg_len
    return None, None


def _same_body(body: str | None, parse_mode: str | None, plain: str | None, msg: SentMessage) -> bool:
    """Whether an edit leaves text/caption *and* its formatting unchanged."""
    if not parse_mode and not msg.parse_mode:
        return plain == msg.plain
    return body == msg.body and (parse_mode or "").lower() == (msg.parse_mode or "").lower()


class BotApi:
    def __init__(
        self,
        state: State,
        limits: RateLimits,
        faults: FaultInjector,
        *,
        bot_username: str,
        strict_chats: bool,
        stopping: asyncio.Event,
        changed: Callable[[], Awaitable[None]],
        cond: asyncio.Condition,
    ) -> None:
        self.state = state
        self.limits = limits
        self.faults = faults
        self.bot_username = bot_username
        self.bot_id = 1000
        self.strict_chats = strict_chats
        self.webhook: dict[str, Any] = {}
        self._stopping = stopping
        self._changed = changed
        self._cond = cond
        self._markup_cache: dict[str, dict[str, Any]] = {}
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for attr in dir(self):
            if attr.startswith("m_"):
                name = attr[2:]
                self._handlers[name.lower()] = (name, getattr(self, attr))

    # -- plumbing ---------------------------------------------------------------------------------
    def set_bot_id_from_token(self, token: str) -> None:
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 1000

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Itami Coach", "username": self.bot_username}

    def method_name(self, method: str) -> str | None:
        entry = self._handlers.get(method.lower())
        return entry[0] if entry else None

    async def call(self, method: str, params: Params) -> Any:
        entry = self._handlers.get(method.lower())
        stats = self.state.stats
        if entry is None:
            stats["requests"][method] = stats["requests"].get(method, 0) + 1
            raise ApiError(404, "Not Found")
        name, handler = entry
        stats["requests"][name] = stats["requests"].get(name, 0) + 1
        stats["requests_total"] += 1
        try:
            return await handler(params)
        except ApiError as exc:
            if exc.code == 400:
                stats["rejected_400"] += 1
            elif exc.code == 403:
                stats["rejected_403"] += 1
            elif exc.code == 429:
                stats["rejected_429"] += 1
            raise
        finally:
            if name != "getUpdates":
                await self._changed()

    def _chat_id(self, p: Params, *, required: bool = True) -> int:
        raw = p.raw("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = p.int("chat_id")
        except ApiError:
            raise bad_request("chat not found") from None
        assert chat_id is not None
        if self.strict_chats and chat_id not in self.state.users:
            raise bad_request("chat not found")
        return chat_id

    def is_blocked(self, chat_id: int) -> bool:
        st = self.state
        if chat_id in st.blocked:
            return True
        return chat_id not in st.unblocked and self.faults.is_blocked(chat_id)

    def _check_blocked(self, chat_id: int) -> None:
        if self.is_blocked(chat_id):
            raise ApiError(403, BLOCKED)

    async def _gate(self, chat_id: int) -> None:
        """Blocked users, injected faults and rate limits, for a validated send/edit request."""
        self._check_blocked(chat_id)
        stats = self.state.stats
        fault = self.faults.draw()
        if fault == "429":
            stats["rejected_429_burst"] += 1
            retry = self.faults.faults.burst_429_retry_after
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        if fault == "5xx":
            stats["faults_5xx"] += 1
            code = self.faults.pick_5xx()
            raise ApiError(code, "Bad Gateway" if code == 502 else "Internal Server Error")
        if fault == "timeout":
            stats["timeouts"] += 1
            await self._changed()  # let waiters see the hold begin
            try:  # hold the response; stop() releases it early
                await asyncio.wait_for(self._stopping.wait(), self.faults.faults.timeout_seconds)
            except TimeoutError:
                pass
            raise ApiError(504, "Gateway Timeout")
        retry = self.limits.check(chat_id)
        if retry:
            stats["rejected_429_limits"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def _delivered(self, chat_id: int, *, edit: bool = False) -> None:
        self.limits.record(chat_id)
        self.state.stats["edits" if edit else "messages_delivered"] += 1
        chat = self.state.chat(chat_id)
        chat.rev += 1
        self.state.bump()

    def message_api(self, msg: SentMessage) -> dict[str, Any]:
        return msg.to_api(self.bot_user, self.state.chat_object(msg.chat_id))

    @staticmethod
    def _checked_plain(text: str, parse_mode: str | None) -> str:
        try:
            return plain_text(text, parse_mode)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None

    def _reply_markup(self, p: Params) -> dict[str, Any] | None:
        raw = p.raw("reply_markup")
        if isinstance(raw, str) and raw in self._markup_cache:
            return self._markup_cache[raw]  # identical keyboards share one (never mutated) dict
        markup = self._parse_reply_markup(p)
        if isinstance(raw, str) and markup is not None:
            if len(self._markup_cache) >= 4096:
                self._markup_cache.clear()
            self._markup_cache[raw] = markup
        return markup

    @staticmethod
    def _parse_reply_markup(p: Params) -> dict[str, Any] | None:
        markup = p.json("reply_markup", what="reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is not None:
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
                    data = button.get("callback_data")
                    actions = {
                        "callback_data",
                        "url",
                        "web_app",
                        "login_url",
                        "switch_inline_query",
                        "switch_inline_query_current_chat",
                        "copy_text",
                        "pay",
                        "callback_game",
                    }
                    if not actions & button.keys():
                        raise bad_request("text buttons are unallowed in the inline keyboard")
                    if data is not None and not 1 <= len(str(data).encode()) <= 64:
                        raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _own_message(self, chat_id: int, message_id: int | None, what: str) -> SentMessage:
        chat = self.state.chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat and message_id is not None else None
        if msg is None or msg.deleted:
            raise bad_request(f"message to {what} not found")
        return msg

    # -- bot identity / lifecycle -----------------------------------------------------------------
    async def m_getMe(self, p: Params) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_logOut(self, p: Params) -> Any:
        return True

    async def m_close(self, p: Params) -> Any:
        return True

    # -- updates ------------------------------------------------------------------------------------
    async def m_getUpdates(self, p: Params) -> Any:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        st = self.state
        offset = p.int("offset", 0) or 0
        limit = max(1, min(100, p.int("limit", 100) or 100))
        timeout = max(0, min(50, p.int("timeout", 0) or 0))
        async with self._cond:
            if offset > 0:
                while st.updates and st.updates[0]["update_id"] < offset:
                    st.updates.popleft()
                st.last_fetch_offset = max(st.last_fetch_offset, offset)
                st.bump()
            elif offset < 0:
                while len(st.updates) > -offset:
                    st.updates.popleft()
            self._cond.notify_all()
            if not st.updates and timeout > 0 and not self._stopping.is_set():
                try:
                    async with asyncio.timeout(timeout):
                        await self._cond.wait_for(lambda: bool(st.updates) or self._stopping.is_set())
                except TimeoutError:
                    pass
            result = list(islice(st.updates, limit))
        st.stats["updates_fetched"] += len(result)
        return result

    async def m_setWebhook(self, p: Params) -> Any:
        url = p.str("url", "") or ""
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("invalid webhook URL specified")
        if p.bool("drop_pending_updates"):
            self.state.updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": p.str("secret_token"),
            "allowed_updates": p.json("allowed_updates"),
            "max_connections": p.int("max_connections", 40),
        }
        return True

    async def m_deleteWebhook(self, p: Params) -> Any:
        if p.bool("drop_pending_updates"):
            self.state.updates.clear()
        self.webhook = {}
        return True

    async def m_getWebhookInfo(self, p: Params) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        if self.webhook.get("url"):
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self.webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # -- sending ----------------------------------------------------------------------------------
    def _text(self, p: Params) -> tuple[str, str | None, str]:
        """The `text` parameter with Telegram's checks: not empty (after markup), at most 4096 characters."""
        text = p.str("text")
        parse_mode = p.str("parse_mode") or None
        if text is None or not text.strip():
            raise bad_request("message text is empty")
        plain = self._checked_plain(text, parse_mode)
        if not plain.strip():
            raise bad_request("message text is empty")
        if len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, parse_mode, plain

    async def m_sendMessage(self, p: Params) -> Any:
        chat_id = self._chat_id(p)
        text, parse_mode, _ = self._text(p)
        markup = self._reply_markup(p)
        await self._gate(chat_id)
        entities = p.json("entities", what="message entities")
        return self._record(chat_id, p, kind="text", text=text, parse_mode=parse_mode, reply_markup=markup,
                            entities=entities if isinstance(entities, list) else None)

    def _record(self, chat_id: int, p: Params, **fields: Any) -> Any:
        """Store an accepted message in its chat and answer with Telegram's Message object."""
        chat = self.state.chat(chat_id)
        msg = SentMessage(chat_id=chat_id, message_id=chat.take_message_id(), date=self.state.now(),
                          disable_notification=p.bool("disable_notification"), **fields)
        chat.messages[msg.message_id] = msg
        self._delivered(chat_id)
        return self.message_api(msg)

    def _file_param(self, p: Params, kind: str) -> StoredFile:
        value = p.upload(kind)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        st = self.state
        if isinstance(value, Upload):
            data = value.data
            if kind == "photo":
                if not data:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                width, height = _image_size(data)
                return st.new_file(
                    "photo",
                    data=data,
                    file_size=len(data),
                    width=width,
                    height=height,
                    file_name=value.filename,
                    mime_type="image/jpeg",
                )
            if kind == "video":
                return st.new_file("video", data=data, file_size=len(data), file_name=value.filename or "video.mp4",
                                   mime_type="video/mp4")
            name = value.filename or "file"
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return st.new_file("document", data=data, file_size=len(data), file_name=name, mime_type=mime)
        known = st.files.get(value)
        if known is not None:
            return known
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or "file"
            return st.new_file(
                kind, url=value, file_name=name, mime_type=mimetypes.guess_type(name)[0] if kind == "document" else None
            )
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def _send_file(self, p: Params, kind: str) -> Any:
        chat_id = self._chat_id(p)
        caption = p.str("caption")
        parse_mode = p.str("parse_mode") or None
        if caption is not None:
            if len(self._checked_plain(caption, parse_mode)) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        markup = self._reply_markup(p)
        stored = self._file_param(p, kind)
        await self._gate(chat_id)
        return self._record(chat_id, p, kind=kind, caption=caption or None, parse_mode=parse_mode,
                            reply_markup=markup, file=stored)

    async def m_sendPhoto(self, p: Params) -> Any:
        return await self._send_file(p, "photo")

    async def m_sendVideo(self, p: Params) -> Any:
        return await self._send_file(p, "video")

    async def m_sendDocument(self, p: Params) -> Any:
        return await self._send_file(p, "document")

    async def m_sendChatAction(self, p: Params) -> Any:
        chat_id = self._chat_id(p)
        if not p.str("action"):
            raise bad_request("wrong parameter action in request")
        self._check_blocked(chat_id)
        self.state.stats["chat_actions"] += 1
        return True

    # -- editing ----------------------------------------------------------------------------------
    def _edit_target(self, p: Params) -> tuple[int, SentMessage]:
        if p.str("inline_message_id"):
            raise bad_request("message to edit not found")
        chat_id = self._chat_id(p)
        return chat_id, self._own_message(chat_id, p.int("message_id"), "edit")

    def _apply_edit(self, msg: SentMessage) -> Any:
        msg.edits += 1
        msg.edit_date = self.state.now()
        self._delivered(msg.chat_id, edit=True)
        return self.message_api(msg)

    async def m_editMessageText(self, p: Params) -> Any:
        chat_id, msg = self._edit_target(p)
        text, parse_mode, plain = self._text(p)
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        markup = self._reply_markup(p)  # absent => the inline keyboard is removed, as on Telegram
        if _same_body(text, parse_mode, plain, msg) and markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        await self._gate(chat_id)
        msg.text, msg.parse_mode, msg.reply_markup = text, parse_mode, markup
        return self._apply_edit(msg)

    async def m_editMessageCaption(self, p: Params) -> Any:
        chat_id, msg = self._edit_target(p)
        caption = p.str("caption") or None
        parse_mode = p.str("parse_mode") or None
        if msg.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        plain = self._checked_plain(caption, parse_mode) if caption else None
        if plain and len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        markup = self._reply_markup(p)
        if _same_body(caption, parse_mode, plain, msg) and markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        await self._gate(chat_id)
        msg.caption, msg.parse_mode, msg.reply_markup = caption, parse_mode, markup
        return self._apply_edit(msg)

    async def m_editMessageReplyMarkup(self, p: Params) -> Any:
        chat_id, msg = self._edit_target(p)
        markup = self._reply_markup(p)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if markup == msg.reply_markup or (markup is None and not msg.buttons):
            raise bad_request(NOT_MODIFIED)
        await self._gate(chat_id)
        msg.reply_markup = markup
        return self._apply_edit(msg)

    async def m_deleteMessage(self, p: Params) -> Any:
        chat_id = self._chat_id(p)
        msg = self._own_message(chat_id, p.int("message_id"), "delete")
        self._check_blocked(chat_id)
        msg.deleted = True
        self.state.chat(chat_id).rev += 1
        self.state.stats["deletes"] += 1
        self.state.bump()
        return True

    # -- callback queries -------------------------------------------------------------------------
    async def m_answerCallbackQuery(self, p: Params) -> Any:
        query_id = p.str("callback_query_id")
        if not query_id or self.state.pending_queries.pop(query_id, None) is None:
            raise bad_request(QUERY_TOO_OLD)
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.state.callback_answers.append((query_id, text, p.bool("show_alert")))
        self.state.stats["callback_answers"] += 1
        self.state.bump()
        return True

    # -- commands -----------------------------------------------------------------------------------
    @staticmethod
    def scope_key(scope: Any) -> str:
        if not scope:
            return "default"
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        key = str(scope["type"])
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f":{scope['user_id']}"
        return key

    def _commands_key(self, p: Params) -> tuple[str, str]:
        return self.scope_key(p.json("scope", what="BotCommandScope")), p.str("language_code", "") or ""

    async def m_setMyCommands(self, p: Params) -> Any:
        commands = p.json("commands", what="commands")
        if commands is None:
            raise bad_request('parameter "commands" is required')
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        cleaned: list[dict[str, str]] = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, desc = str(cmd.get("command", "")), str(cmd.get("description", ""))
            if not (1 <= len(name) <= 32) or not all(c.islower() or c.isdigit() or c == "_" for c in name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": desc})
        self.state.commands[self._commands_key(p)] = cleaned
        return True

    async def m_getMyCommands(self, p: Params) -> Any:
        return list(self.state.commands.get(self._commands_key(p), []))

    async def m_deleteMyCommands(self, p: Params) -> Any:
        self.state.commands.pop(self._commands_key(p), None)
        return True

    # -- small extras bots commonly call at start-up -------------------------------------------------
    async def m_setMyDescription(self, p: Params) -> Any:
        return True

    async def m_setMyShortDescription(self, p: Params) -> Any:
        return True

    async def m_setChatMenuButton(self, p: Params) -> Any:
        return True

    async def m_getChatMenuButton(self, p: Params) -> Any:
        return {"type": "commands"}

    async def m_getFile(self, p: Params) -> Any:
        f = self.state.files.get(p.str("file_id") or "")
        if f is None:
            raise bad_request("invalid file_id")
        out: dict[str, Any] = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
        if f.file_size is not None:
            out["file_size"] = f.file_size
        if f.data is not None:
            out["file_path"] = f.file_path
        return out
