"""The :class:`LineStandin`: an aiohttp LINE Messaging API server plus an in-process test API."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextvars
import copy
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from .messages import QUOTABLE, ApiError, LineMessage, new_ulid, new_user_id, quick_replies_of, validate_messages

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
MONTHLY_LIMIT = "You have reached your monthly limit."
RATE_LIMIT = "The API rate limit has been exceeded. Try again later."
RETRY_KEY_ACCEPTED = "The retry key is already accepted"
RETRY_KEY_TTL = timedelta(hours=24)
_ID_SHAPE = re.compile(r"^[UCR][0-9a-f]{32}$")
_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("line_standin_request_id")
_UUID_SHAPE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NoSuchButton(KeyError):
    """No quick-reply button with that label on the chat's last message."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(slots=True)
class _Token:
    chat_id: str
    issued: datetime
    used: bool = False


@dataclass(slots=True)
class _Fault:
    status: int
    path: str | None  # "push" | "reply" | None (either)


@dataclass(slots=True)
class _User:
    user_id: str
    display_name: str
    language: str | None = "ja"
    following: bool = True
    ever_unfollowed: bool = False


class LineStandin:
    """A fake LINE Messaging API (api.line.me) bound to 127.0.0.1, and the users who talk to the bot.

    The bot's side is HTTP (``base_url`` as ``Configuration(host=...)``); the users' side is this object:
    ``user_sends_text``/``user_presses``/``user_follows``/``user_unfollows`` sign and POST webhooks to
    ``webhook_url``. Everything time-dependent (reply-token expiry, retry-key lifetime, the month the
    quota counts, per-second rate, event timestamps) reads ``now()``, so tests move time by hand.
    """

    def __init__(
        self,
        channel_secret: str,
        access_token: str,
        *,
        webhook_url: str | None = None,
        monthly_quota: int | None = None,
        reply_token_ttl: float = 60.0,
        now: Callable[[], datetime] | None = None,
        allow_http_media: bool = False,
        bot_user_id: str | None = None,
        push_rate_per_second: int | None = None,
        error_5xx_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= error_5xx_rate <= 1.0:
            raise ValueError(f"error_5xx_rate must be within [0, 1], got {error_5xx_rate!r}")
        self.channel_secret = channel_secret
        self.access_token = access_token
        self.webhook_url = webhook_url
        self.monthly_quota = monthly_quota
        self.reply_token_ttl = reply_token_ttl
        self.now: Callable[[], datetime] = now or _utc_now
        self.allow_http_media = allow_http_media
        self.bot_user_id = bot_user_id or new_user_id()
        self.push_rate_per_second = push_rate_per_second
        self.error_5xx_rate = error_5xx_rate
        self._rng = random.Random(seed)
        self._faults: collections.deque[_Fault] = collections.deque()
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        self._ids = itertools.count(600000000000000001)
        self._init_state()

    def _init_state(self) -> None:
        self._chats: dict[str, list[LineMessage]] = collections.defaultdict(list)
        self._users: dict[str, _User] = {}
        self._groups: dict[str, set[str]] = {}
        self._tokens: dict[str, _Token] = {}
        self._retry_keys: dict[str, tuple[str, datetime, list[dict[str, str]]]] = {}
        self._usage: collections.Counter[tuple[int, int]] = collections.Counter()
        self._push_times: collections.deque[datetime] = collections.deque()
        self.events: list[dict[str, Any]] = []
        self.stats: dict[str, Any] = {"replies": 0, "pushes": 0, "messages": 0, "undelivered": 0,
                                      "webhooks": 0, "rejected": collections.Counter()}

    def reset(self) -> None:
        """Forget messages, events, users, tokens, retry keys, quota usage and stats. Settings and queued
        faults (``fail_next``) stay."""
        self._init_state()

    # ==== lifecycle ===============================================================================
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> LineStandin:
        if self._runner is not None:
            raise RuntimeError("LineStandin already started")
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_get("/v2/bot/message/quota", self._quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self._consumption)
        app.router.add_get("/v2/bot/info", self._bot_info)
        app.router.add_get("/v2/bot/profile/{user_id}", self._profile)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host = host
        self._port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LineStandin:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LineStandin not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``linebot.v3.messaging.Configuration(host=...)`` (stands for ``https://api.line.me``)."""
        return f"http://{self._host}:{self.port}"

    # ==== faults ====================================================================================
    def fail_next(self, n: int = 1, status: int = 500, path: str | None = None) -> None:
        """The next ``n`` send requests (``path`` "push", "reply" or None for either) answer ``status``:
        429 (the rate-limit body) or 500/502/503/504. A faulted request records and counts nothing."""
        if status not in (429, 500, 502, 503, 504):
            raise ValueError(f"status must be 429 or 5xx, got {status}")
        if path not in ("push", "reply", None):
            raise ValueError(f"path must be 'push', 'reply' or None, got {path!r}")
        self._faults.extend(_Fault(status, path) for _ in range(n))

    def _take_fault(self, path: str) -> ApiError | None:
        for i, fault in enumerate(self._faults):
            if fault.path in (None, path):
                del self._faults[i]
                return self._fault_error(fault.status)
        if self.error_5xx_rate > 0.0 and self._rng.random() < self.error_5xx_rate:
            return self._fault_error(502 if self._rng.random() < 0.5 else 500)
        return None

    @staticmethod
    def _fault_error(status: int) -> ApiError:
        if status == 429:
            return ApiError(429, RATE_LIMIT, reason="rate_limit")
        return ApiError(status, "Internal server error", reason=f"fault_{status}")

    # ==== HTTP: Messaging API =======================================================================
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        _REQUEST_ID.set(request_id)  # the handler runs in this task: it reads the id from here
        try:
            if request.headers.get("Authorization") != f"Bearer {self.access_token}":
                raise ApiError(401, AUTH_FAILED, reason="auth")
            response: web.StreamResponse = await handler(request)
        except ApiError as exc:
            self.stats["rejected"][exc.reason] += 1
            response = web.json_response(exc.body, status=exc.status, headers=exc.headers)
        except web.HTTPNotFound:
            response = web.json_response({"message": "Not found"}, status=404)
        except web.HTTPMethodNotAllowed:
            response = web.json_response({"message": "Method not allowed"}, status=405)
        response.headers["x-line-request-id"] = request_id
        return response

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise ApiError(400, "The request body could not be parsed as JSON", reason="validation") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The request body could not be parsed as JSON", reason="validation")
        return body

    @staticmethod
    def _notification_disabled(body: dict[str, Any]) -> bool:
        value = body.get("notificationDisabled", False)
        if not isinstance(value, bool):
            raise ApiError(400, "The request body has 1 error(s)", reason="validation",
                           details=[{"message": "must be a boolean", "property": "notificationDisabled"}])
        return value

    async def _reply(self, request: web.Request) -> web.Response:
        if "X-Line-Retry-Key" in request.headers:  # only push/multicast/narrowcast/broadcast take one
            raise ApiError(400, "X-Line-Retry-Key is not supported by this API", reason="retry_key")
        fault = self._take_fault("reply")
        if fault is not None:
            raise fault
        body = await self._json_body(request)
        messages = validate_messages(body.get("messages"), allow_http_media=self.allow_http_media)
        silent = self._notification_disabled(body)
        token = self._tokens.get(body.get("replyToken") or "")
        now = self.now()
        if token is None or token.used or (now - token.issued).total_seconds() > self.reply_token_ttl:
            raise ApiError(400, "Invalid reply token", reason="invalid_reply_token")
        token.used = True
        self.stats["replies"] += 1
        sent = await self._deliver(token.chat_id, messages, "reply", _REQUEST_ID.get(), None, silent, now)
        return web.json_response({"sentMessages": sent})

    async def _push(self, request: web.Request) -> web.Response:
        now = self.now()
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key is not None:
            if not _UUID_SHAPE.match(retry_key):
                raise ApiError(400, "The value of X-Line-Retry-Key header is invalid", reason="retry_key")
            retry_key = retry_key.lower()
            self._retry_keys = {k: v for k, v in self._retry_keys.items() if now - v[1] < RETRY_KEY_TTL}
            if retry_key in self._retry_keys:
                first_id, _, sent = self._retry_keys[retry_key]
                raise ApiError(409, RETRY_KEY_ACCEPTED, reason="retry_key_accepted", extra={"sentMessages": sent},
                               headers={"x-line-accepted-request-id": first_id})
        fault = self._take_fault("push")
        if fault is not None:
            raise fault
        body = await self._json_body(request)
        to = body.get("to")
        if not isinstance(to, str) or not _ID_SHAPE.match(to):
            raise ApiError(400, "The property, 'to', in the request body is invalid (line: -, column: -)",
                           reason="validation")
        messages = validate_messages(body.get("messages"), allow_http_media=self.allow_http_media)
        silent = self._notification_disabled(body)
        if to not in (self._users if to[0] == "U" else self._groups):  # the real API: a user id it doesn't know
            raise ApiError(400, "Failed to send messages", reason="unknown_recipient")
        if self.push_rate_per_second is not None:
            while self._push_times and (now - self._push_times[0]).total_seconds() >= 1.0:
                self._push_times.popleft()
            if len(self._push_times) >= self.push_rate_per_second:
                raise ApiError(429, RATE_LIMIT, reason="rate_limit")
        recipients = self._recipients(to)
        month = (now.year, now.month)
        if self.monthly_quota is not None and recipients and self._usage[month] + recipients > self.monthly_quota:
            raise ApiError(429, MONTHLY_LIMIT, reason="monthly_limit")
        if self.push_rate_per_second is not None:
            self._push_times.append(now)
        self._usage[month] += recipients
        self.stats["pushes"] += 1
        sent = await self._deliver(to, messages, "push", _REQUEST_ID.get(), retry_key, silent, now)
        if retry_key is not None:
            self._retry_keys[retry_key] = (_REQUEST_ID.get(), now, sent)
        return web.json_response({"sentMessages": sent})

    def _recipients(self, chat_id: str) -> int:
        """How many messages a push counts: one per receiving person, whatever the number of message
        objects; a user who blocked the account receives nothing and is not counted."""
        if chat_id[0] == "U":
            return 1 if self._users[chat_id].following else 0
        return max(1, len(self._groups[chat_id]))

    async def _deliver(self, chat_id: str, messages: list[dict[str, Any]], via: str, request_id: str,
                       retry_key: str | None, silent: bool, now: datetime) -> list[dict[str, str]]:
        sent: list[dict[str, str]] = []
        for message in messages:
            entry = {"id": str(next(self._ids))}
            if message.get("type") in QUOTABLE:
                entry["quoteToken"] = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
            sent.append(entry)
        user = self._users.get(chat_id)
        if user is not None and not user.following:  # blocked: 200 and sentMessages, but nothing arrives
            self.stats["undelivered"] += len(messages)
            return sent
        chat = self._chats[chat_id]
        for message, entry in zip(messages, sent, strict=True):
            chat.append(LineMessage(chat_id, via, copy.deepcopy(message), now, request_id, retry_key, silent,
                                    entry["id"], quick_replies_of(message)))
        self.stats["messages"] += len(messages)
        async with self._cond:
            self._cond.notify_all()
        return sent

    async def _quota(self, request: web.Request) -> web.Response:
        if self.monthly_quota is None:
            return web.json_response({"type": "none"})
        return web.json_response({"type": "limited", "value": self.monthly_quota})

    async def _consumption(self, request: web.Request) -> web.Response:
        return web.json_response({"totalUsage": self.pushes_used})

    async def _bot_info(self, request: web.Request) -> web.Response:
        return web.json_response({"userId": self.bot_user_id, "basicId": "@itamicoach", "displayName": "Itami Coach",
                                  "chatMode": "bot", "markAsReadMode": "auto"})

    async def _profile(self, request: web.Request) -> web.Response:
        user = self._users.get(request.match_info["user_id"])
        if user is None or not user.following:
            raise ApiError(404, "Not found", reason="not_found")
        body: dict[str, Any] = {"userId": user.user_id, "displayName": user.display_name}
        if user.language:
            body["language"] = user.language
        return web.json_response(body)

    # ==== the users' side: webhooks =================================================================
    def set_profile(self, user_id: str, display_name: str, language: str | None = "ja") -> None:
        user = self._user(user_id)
        user.display_name = display_name
        user.language = language

    def _user(self, user_id: str) -> _User:
        if not _ID_SHAPE.match(user_id) or user_id[0] != "U":
            raise ValueError(f"not a LINE user id (U + 32 hex): {user_id!r}")
        if user_id not in self._users:
            self._users[user_id] = _User(user_id, display_name=f"User {user_id[1:5]}")
        return self._users[user_id]

    def _source(self, user_id: str, group_id: str | None) -> tuple[dict[str, str], str]:
        self._user(user_id)
        if group_id is None:
            return {"type": "user", "userId": user_id}, user_id
        if not _ID_SHAPE.match(group_id) or group_id[0] == "U":
            raise ValueError(f"not a LINE group (C + 32 hex) or room (R + 32 hex) id: {group_id!r}")
        self._groups.setdefault(group_id, set()).add(user_id)
        if group_id[0] == "C":
            return {"type": "group", "groupId": group_id, "userId": user_id}, group_id
        return {"type": "room", "roomId": group_id, "userId": user_id}, group_id

    def _event(self, kind: str, source: dict[str, str], chat_id: str | None, **fields: Any) -> dict[str, Any]:
        now = self.now()
        ms = int(now.timestamp() * 1000)
        event: dict[str, Any] = {"type": kind}
        event.update(fields)
        event.update({"webhookEventId": new_ulid(ms), "deliveryContext": {"isRedelivery": False},
                      "timestamp": ms, "source": source, "mode": "active"})
        if chat_id is not None:
            token = os.urandom(16).hex()
            self._tokens[token] = _Token(chat_id, now)
            event["replyToken"] = token
        return event

    def sign(self, body: bytes) -> str:
        """The ``X-Line-Signature`` of ``body``: base64(HMAC-SHA256(channel secret, body))."""
        digest = hmac.new(self.channel_secret.encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    async def _send(self, event: dict[str, Any]) -> int | None:
        self.events.append(event)
        body = json.dumps({"destination": self.bot_user_id, "events": [event]}, ensure_ascii=False,
                          separators=(",", ":")).encode()
        return await self.post_raw(body, self.sign(body))

    async def post_raw(self, body: bytes, signature: str | None) -> int | None:
        """POST ``body`` to the webhook as is, with ``signature`` (None: no X-Line-Signature header).
        Returns the HTTP status, or None when no ``webhook_url`` is set (events are then only kept)."""
        if self.webhook_url is None:
            return None
        if self._session is None:
            raise RuntimeError("LineStandin not started")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "LineBotWebhook/2.0"}
        if signature is not None:
            headers["X-Line-Signature"] = signature
        async with self._session.post(self.webhook_url, data=body, headers=headers) as response:
            await response.read()
            self.stats["webhooks"] += 1
            return response.status

    async def user_sends_text(self, user_id: str, text: str, group_id: str | None = None) -> int | None:
        """A text message event (1:1, or in group/room ``group_id``: ``C...``/``R...``). Issues a reply token."""
        source, chat_id = self._source(user_id, group_id)
        message = {"id": str(next(self._ids)), "type": "text", "text": text,
                   "quoteToken": base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")}
        return await self._send(self._event("message", source, chat_id, message=message))

    async def user_presses(self, user_id: str, data: str, group_id: str | None = None) -> int | None:
        """A postback event carrying ``data`` (as a postback button sends). Issues a reply token."""
        source, chat_id = self._source(user_id, group_id)
        return await self._send(self._event("postback", source, chat_id, postback={"data": data}))

    async def user_taps(self, user_id: str, label: str) -> int | None:
        """The user taps quick-reply button ``label`` of their chat's last message: a postback event for a
        postback action, a text message event for a message action."""
        chat = self._chats.get(user_id)
        items = (chat[-1].message.get("quickReply") or {}).get("items", []) if chat else []
        for item in items:
            action = item.get("action") or {}
            if action.get("label") == label:
                if action.get("type") == "postback":
                    return await self.user_presses(user_id, action["data"])
                if action.get("type") == "message":
                    return await self.user_sends_text(user_id, action["text"])
                raise ValueError(f"button {label!r} is a {action.get('type')} action; only postback/message tap")
        raise self._no_button(user_id, label)

    async def user_follows(self, user_id: str) -> int | None:
        """A follow event (added as a friend, or unblocked: ``follow.isUnblocked``). Issues a reply token."""
        user = self._user(user_id)
        user.following = True
        event = self._event("follow", {"type": "user", "userId": user_id}, user_id,
                            follow={"isUnblocked": user.ever_unfollowed})
        return await self._send(event)

    async def user_unfollows(self, user_id: str) -> int | None:
        """An unfollow event (the user blocked the account); no reply token. Pushes to them then answer 200
        but deliver and count nothing, and their profile answers 404."""
        user = self._user(user_id)
        user.following = False
        user.ever_unfollowed = True
        return await self._send(self._event("unfollow", {"type": "user", "userId": user_id}, None))

    async def redeliver(self, event: dict[str, Any]) -> int | None:
        """Send ``event`` again as LINE's webhook redelivery does: same webhookEventId, same body,
        ``deliveryContext.isRedelivery: true``. No new reply token is issued (see README)."""
        again = copy.deepcopy(event)
        again["deliveryContext"] = {"isRedelivery": True}
        return await self._send(again)

    def last_event(self) -> dict[str, Any]:
        if not self.events:
            raise LookupError("no webhook event sent yet")
        return self.events[-1]

    # ==== the users' side: what they received ======================================================
    def messages(self, chat_id: str) -> list[LineMessage]:
        """Message objects delivered to a user (1:1 chat) or a group/room, in order."""
        return list(self._chats.get(chat_id, ()))

    def chats(self) -> list[str]:
        """Every user (or group/room) the bot sent a message to."""
        return list(self._chats)

    def texts(self, chat_id: str) -> list[str]:
        return [m.text for m in self.messages(chat_id) if m.text is not None]

    def last_quick_replies(self, chat_id: str) -> list[tuple[str, str]]:
        """(label, postback data or message text) of the quick reply on the chat's last message; LINE
        shows a quick reply only while its message is the last one."""
        chat = self._chats.get(chat_id)
        return list(chat[-1].quick_replies) if chat else []

    def button(self, chat_id: str, label: str) -> str:
        """The postback data (or message text) of quick-reply button ``label`` on the last message."""
        for name, value in self.last_quick_replies(chat_id):
            if name == label:
                return value
        raise self._no_button(chat_id, label)

    def _no_button(self, chat_id: str, label: str) -> NoSuchButton:
        labels = [name for name, _ in self.last_quick_replies(chat_id)]
        return NoSuchButton(f"no quick-reply button {label!r} on {chat_id}'s last message; buttons: {labels}")

    @property
    def pushes_used(self) -> int:
        """Messages counted against the quota this month (by ``now()``): one per push recipient."""
        now = self.now()
        return self._usage[(now.year, now.month)]

    async def wait_for_messages(self, chat_id: str, n: int, timeout: float = 5.0) -> list[LineMessage]:  # noqa: ASYNC109
        """Wait until ``chat_id`` has received at least ``n`` message objects in total."""
        async with self._cond:
            try:
                async with asyncio.timeout(timeout):
                    await self._cond.wait_for(lambda: len(self._chats.get(chat_id, ())) >= n)
            except TimeoutError:
                got = "\n".join(f"  {m.summary()}" for m in self.messages(chat_id)) or "  (nothing)"
                raise AssertionError(f"{chat_id} expected >= {n} messages within {timeout}s, received "
                                     f"{len(self.messages(chat_id))}:\n{got}") from None
        return self.messages(chat_id)
