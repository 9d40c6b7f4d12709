"""The :class:`StandIn`: an aiohttp Telegram Bot API server plus an in-process test API."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from .api import BotApi
from .faults import FaultInjector, Faults
from .limits import RateLimits
from .markup import command_entities
from .params import ApiError, Params, Upload
from .state import SentMessage, State, photo_size

log = logging.getLogger(__name__)

_UNSET: Any = object()
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
MAX_BODY = 60 * 1024 * 1024


async def read_params(request: web.Request) -> Params:
    """Query string + JSON / urlencoded / multipart body, merged (body wins)."""
    data: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.body_exists:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON") from None
            if isinstance(body, dict):
                data.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data[key] = Upload(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes | bytearray):
                    data[key] = Upload(bytes(value), None, None)
                else:
                    data[key] = value
    return Params(data)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


class StandIn:
    """A fake Telegram Bot API server for PTB, bound to 127.0.0.1.

    ``token=None`` accepts any token; otherwise other tokens get 401/404 (PTB: ``InvalidToken``).
    ``strict_chats=True`` answers "chat not found" for chats whose user never wrote to the bot.
    ``record_bodies=False`` keeps no uploaded file bytes (saves memory on benchmarks).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        faults: Faults | None = None,
        seed: int = 0,
        bot_username: str = "itami_coach_bot",
        strict_chats: bool = False,
        record_bodies: bool = True,
        webhook_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.state = State(record_bodies=record_bodies)
        self.limits = RateLimits(global_rate, per_chat_rate, clock=clock)
        self.faults = FaultInjector(faults, seed)
        self.webhook_retries = webhook_retries
        self._cond = asyncio.Condition()
        self._stopping = asyncio.Event()
        self.api = BotApi(
            self.state,
            self.limits,
            self.faults,
            bot_username=bot_username,
            strict_chats=strict_chats,
            stopping=self._stopping,
            changed=self._notify,
            cond=self._cond,
        )
        if token:
            self.api.set_bot_id_from_token(token)
        self._seen_token: str | None = token
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # ==== lifecycle ===============================================================================
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> StandIn:
        if self._runner is not None:
            raise RuntimeError("StandIn already started")
        self._stopping.clear()
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        from .control import add_control_routes  # local import: control imports this module

        add_control_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]  # aiohttp types the private _server as AbstractServer
        self._host = host
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # as above: a bound port 0 is read back
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._webhook_loop(), name="standin-webhook")
        return self

    async def stop(self) -> None:
        self._stopping.set()
        await self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("StandIn not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ==== HTTP: Bot API =============================================================================
    def _token_error(self, token: str) -> ApiError | None:
        if self.token is None:
            if token != self._seen_token:
                self._seen_token = token
                self.api.set_bot_id_from_token(token)
            return None
        if token == self.token:
            return None
        if _TOKEN_SHAPE.match(token):
            return ApiError(401, "Unauthorized")
        return ApiError(404, "Not Found")

    async def _handle_api(self, request: web.Request) -> web.Response:
        try:
            error = self._token_error(request.match_info["token"])
            if error is not None:
                raise error
            method = request.match_info["method"]
            if self.api.method_name(method) is None:
                await self.api.call(method, Params({}))  # counts it and raises 404
            params = await read_params(request)
            result = await self.api.call(method, params)
        except ApiError as exc:
            return _json(exc.body(), status=exc.code)
        return _json({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self._token_error(request.match_info["token"]) is not None:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        path = request.match_info["path"]
        for f in self.state.files.values():
            if f.file_path == path and f.data is not None:
                return web.Response(body=f.data, content_type=f.mime_type or "application/octet-stream")
        return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    # ==== waiting / notification ===================================================================
    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
        message: str | Callable[[], str] = "",
    ) -> None:
        """Wait (on a Condition, woken by every change) until ``predicate()`` is true."""
        async with self._cond:
            try:
                async with asyncio.timeout(timeout):
                    await self._cond.wait_for(predicate)
            except TimeoutError:
                detail = message() if callable(message) else message
                raise AssertionError(
                    f"condition not met within {timeout}s" + (f": {detail}" if detail else "")
                ) from None

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until chat ``chat_id`` has received at least ``count`` bot messages in total."""

        def received() -> list[SentMessage]:
            chat = self.state.chats.get(chat_id)
            return list(chat.messages.values()) if chat else []

        def describe() -> str:
            got = received()
            lines = "\n".join(f"  {m.summary()}" for m in got) or "  (nothing)"
            return f"chat {chat_id} expected >= {count} messages, received {len(got)}:\n{lines}"

        await self.wait_until(lambda: len(received()) >= count, timeout, describe)
        return received()

    async def wait_for_updates_consumed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every queued update was taken (confirmed via a later getUpdates offset or
        delivered to the webhook)."""
        await self.wait_until(
            lambda: not self.state.updates,
            timeout,
            lambda: (
                f"{len(self.state.updates)} update(s) still pending: "
                f"{[u['update_id'] for u in list(self.state.updates)[:10]]}"
            ),
        )

    # ==== webhook delivery ===========================================================================
    async def _webhook_loop(self) -> None:
        st = self.state
        while True:
            async with self._cond:
                await self._cond.wait_for(
                    lambda: self._stopping.is_set() or (bool(self.api.webhook.get("url")) and bool(st.updates))
                )
            if self._stopping.is_set():
                return
            update = st.updates[0]
            url = self.api.webhook["url"]
            headers = {}
            if self.api.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.api.webhook["secret_token"]
            delivered = False
            for attempt in range(max(1, self.webhook_retries)):
                st.stats["webhook_posts"] += 1
                try:
                    assert self._session is not None
                    async with self._session.post(url, json=update, headers=headers) as resp:
                        delivered = resp.status < 300
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    log.debug("webhook POST to %s failed: %r", url, exc)
                if delivered:
                    break
                st.stats["webhook_failures"] += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 0.1 * 2**attempt)
                if self._stopping.is_set():
                    return
            if st.updates and st.updates[0] is update:
                st.updates.popleft()
            if not delivered:
                st.stats["webhook_dropped"] += 1
            st.bump()
            await self._notify()

    # ==== test-side API: users act ==================================================================
    def _user_message(
        self, user_id: int, first_name: str | None, username: str | None, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A message from ``user_id`` in their private chat, or in group ``chat_id`` (see ``add_group``)."""
        user = self.state.user(user_id, first_name, username)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id != user_id and chat_id not in self.state.groups:
            raise LookupError(f"chat {chat_id} is not a group: call add_group() first")
        chat = self.state.chat(chat_id)
        return {
            "message_id": chat.take_message_id(),
            "from": dict(user),
            "chat": self.state.chat_object(chat_id),
            "date": self.state.now(),
        }

    def add_group(self, chat_id: int, kind: str = "group", title: str | None = None) -> None:
        """A group / supergroup / channel the bot is a member of (``chat_id`` negative, as Telegram's)."""
        self.state.group(chat_id, kind, title)

    async def _push(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = self.state.add_update(payload)
        await self._notify()
        return update

    async def user_sends_text(
        self,
        user_id: int,
        text: str,
        first_name: str | None = None,
        username: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a text message update from ``user_id`` (``/command`` gets a bot_command entity), in their
        private chat or in group ``chat_id``."""
        msg = self._user_message(user_id, first_name, username, chat_id)
        msg["text"] = text
        entities = command_entities(text)
        if entities:
            msg["entities"] = entities
        return await self._push({"message": msg})

    async def channel_post(self, chat_id: int, text: str) -> dict[str, Any]:
        """Queue a ``channel_post`` update in channel ``chat_id``: no ``from`` user, as Telegram sends it."""
        channel = self.state.group(chat_id, "channel")
        if channel["type"] != "channel":
            raise ValueError(f"chat {chat_id} is a {channel['type']}, not a channel")
        post = {
            "message_id": self.state.chat(chat_id).take_message_id(),
            "sender_chat": dict(channel),
            "chat": dict(channel),
            "date": self.state.now(),
            "text": text,
        }
        entities = command_entities(text)
        if entities:
            post["entities"] = entities
        return await self._push({"channel_post": post})

    async def user_sends_sticker(
        self, user_id: int, emoji: str = "👍", first_name: str | None = None
    ) -> dict[str, Any]:
        msg = self._user_message(user_id, first_name, None)
        n = self.state.next_serial()
        msg["sticker"] = {
            "file_id": f"CAACstandinsticker{n:08d}",
            "file_unique_id": f"AgAD{n:08d}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 12345,
        }
        return await self._push({"message": msg})

    async def user_sends_photo(
        self, user_id: int, caption: str | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        msg = self._user_message(user_id, first_name, None)
        f = self.state.new_file("photo", width=1280, height=960, file_size=123456)
        msg["photo"] = [photo_size(f)]
        if caption:
            msg["caption"] = caption
        return await self._push({"message": msg})

    def _find_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        chat = self.state.chats.get(chat_id)
        return chat.messages.get(message_id) if chat else None

    async def _press(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        user = self.state.user(user_id)
        msg = self._find_message(chat_id, message_id)
        message = (
            self.api.message_api(msg)
            if msg is not None and not msg.deleted
            else {"chat": self.state.chat_object(chat_id), "message_id": message_id, "date": 0}
        )
        query_id = str(4_000_000_000_000_000_000 + self.state.next_serial())
        instance = hashlib.sha256(f"{chat_id}".encode()).hexdigest()[:16]
        query = {
            "id": query_id,
            "from": dict(user),
            "message": message,
            "chat_instance": str(int(instance, 16)),
            "data": data,
        }
        self.state.pending_queries[query_id] = query
        await self._push({"callback_query": query})
        return query_id

    async def user_presses(
        self,
        user_id: int,
        message_id: int,
        data: str | None = None,
        button_text: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> str:
        """Press a button on bot message ``message_id`` of chat ``chat_id`` (default: the user's own
        chat; another chat simulates a forged press). Give ``data`` or the ``button_text``.
        Returns the callback query id."""
        chat_id = user_id if chat_id is None else chat_id
        msg = self._find_message(chat_id, message_id)
        if msg is None or msg.deleted:
            have = [m.summary() for m in self.messages(chat_id)][-5:]
            raise LookupError(f"chat {chat_id} has no message {message_id} to press; last messages: {have}")
        if button_text is not None:
            found = msg.find_button(button_text)
            if found is None:
                raise ValueError(f"button {button_text!r} on message {message_id} has no callback_data")
            data = found
        if data is None:
            raise ValueError("give data or button_text")
        return await self._press(user_id, chat_id, message_id, data)

    async def user_presses_raw(self, user_id: int, data: str, message_id: int, *, chat_id: int | None = None) -> str:
        """A callback query with arbitrary ``data`` (the message need not exist or have that button)."""
        return await self._press(user_id, user_id if chat_id is None else chat_id, message_id, data)

    # ==== test-side API: inspect =====================================================================
    def messages(self, chat_id: int, *, include_deleted: bool = True) -> list[SentMessage]:
        """Bot messages sent to ``chat_id``, in order (deleted ones flagged ``.deleted``)."""
        chat = self.state.chats.get(chat_id)
        if chat is None:
            return []
        msgs = list(chat.messages.values())
        return msgs if include_deleted else [m for m in msgs if not m.deleted]

    def last_message(self, chat_id: int) -> SentMessage | None:
        chat = self.state.chats.get(chat_id)
        if not chat or not chat.messages:
            return None
        return next(reversed(chat.messages.values()))

    def all_messages(self) -> list[SentMessage]:
        """Every bot message, grouped by chat (chats in first-contact order)."""
        return [m for chat in self.state.chats.values() for m in chat.messages.values()]

    @property
    def callback_answers(self) -> list[tuple[str, str | None, bool]]:
        return self.state.callback_answers

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, str]]]:
        """setMyCommands results keyed by ``(scope, language_code)``; scope is ``"default"``,
        ``"all_private_chats"``, ``"chat:<id>"`` ... and language_code ``""`` when not given."""
        return self.state.commands

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[tuple[str, str]]:
        return [(c["command"], c["description"]) for c in self.state.commands.get((scope, language_code), [])]

    @property
    def pending_updates(self) -> int:
        return len(self.state.updates)

    @property
    def webhook(self) -> dict[str, Any]:
        return dict(self.api.webhook)

    @property
    def stats(self) -> dict[str, Any]:
        st = self.state
        out = dict(st.stats)
        out["requests"] = dict(st.stats["requests"])
        out["pending_updates"] = len(st.updates)
        out["pending_callback_queries"] = len(st.pending_queries)
        out["chats"] = len(st.chats)
        out["limits"] = {"global_rate": self.limits.global_rate, "per_chat_rate": self.limits.per_chat_rate}
        out["faults"] = self.faults.faults.to_dict()
        return out

    # ==== test-side API: control =====================================================================
    def block(self, user_id: int) -> None:
        """The user blocks the bot: chat methods to them answer 403."""
        self.state.blocked.add(user_id)
        self.state.unblocked.discard(user_id)

    def unblock(self, user_id: int) -> None:
        self.state.blocked.discard(user_id)
        self.state.unblocked.add(user_id)

    def set_limits(self, global_rate: float | None = _UNSET, per_chat_rate: float | None = _UNSET) -> None:
        """Change rate limits; ``None`` disables one, an omitted argument leaves it unchanged."""
        self.limits.configure(
            global_rate=self.limits.global_rate if global_rate is _UNSET else global_rate,
            per_chat_rate=self.limits.per_chat_rate if per_chat_rate is _UNSET else per_chat_rate,
        )

    def set_faults(self, faults: Faults | None = None, seed: int | None = None) -> None:
        """Replace the fault config (``None`` = no faults); resets the 429 burst counter."""
        self.faults.configure(faults or Faults(), seed)

    async def reset(self) -> None:
        """Forget messages, updates, users, blocks, answers, commands and stats. Limits, faults and
        the webhook setting stay as configured (rate windows are emptied)."""
        self.state.reset()
        self.limits.reset()
        await self._notify()
