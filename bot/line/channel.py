"""The LINE adapter: the messaging port (bot/coaching/messages.py) on LINE, through the official line-bot-sdk
(v3, async client).

How a batch of Replies becomes LINE messages:
- text as a text message (no markup; a `link` stays plain text: a LINE user's chat cannot be opened by link);
- a picture from the bot's own HTTPS endpoint (bot/line/server.py): a picture named by its id (the exercises'
  drawings) under its id and hash, bytes (a patient's chart) under an unguessable token kept `MEDIA_DAYS` days;
  a picture with a caption is a bubble of a flex message (the picture above its text), and the pictures of one
  batch side by side in one carousel (the first reminder's exercises: one message, not twelve); a picture
  alone is an image message; a clinic's picture URL is passed on as it is and a clinic's video URL is sent as
  a link under its caption;
- a document (a patient's /mydata export) as a link valid for `DOCUMENT_HOURS` hours (LINE bots cannot send
  files);
- the choice buttons as quick replies (postbacks carrying the same callback data; the label shows in the chat as
  the person's own message) on the batch's last message, where LINE shows them: at most 13; when a label is
  longer than LINE's 20 characters (the warning signs), the choices are listed in full and numbered under the
  message's text and the quick replies start with their number. A message to a patient that asks nothing
  carries the main commands instead (today's plan, a symptom, a question, the record, settings, help: LINE has
  no command menu), as postbacks "cmd:<command>" that bot/line/events.py turns into the command.
Up to 5 messages go in one request. A handler's answer goes with the event's reply token while it is fresh
(free); anything else is a push, counted and held by priority near the monthly cap (bot/line/quota.py), sent
with an X-Line-Retry-Key made from `key`, so a retried push is delivered once (LINE answers 409 to a key it
already accepted).

LINE's answers become the port's errors: 429 "monthly limit" -> Held (the clinic is told), other 429 ->
RetryLater, 5xx and network errors -> Unavailable, other 4xx -> Rejected. A push to someone who blocked the
account is accepted by LINE and delivered to nobody; the unfollow event marks them unreachable
(bot/line/server.py).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexCarousel,
    FlexImage,
    FlexMessage,
    FlexText,
    ImageMessage,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)

from bot.coaching.messages import (
    BUTTON_LABEL_MAX,
    BUTTONS_MAX,
    Answering,
    Held,
    Priority,
    Rejected,
    Reply,
    RetryLater,
    Unavailable,
    priority_of,
)
from bot.i18n import t
from bot.line.events import COMMAND
from bot.line.quota import Quota
from bot.media import MediaLibrary
from bot.runtime import Runtime
from bot.storage import line as stored
from bot.storage import patients

log = logging.getLogger(__name__)

PER_REQUEST = 5  # message objects in one reply or push
BUBBLES = 12  # bubbles in a flex carousel
ALT_MAX = 400  # characters of a flex message's alt text
TIMEOUT = 10  # seconds for one request to LINE (the SDK's default is 5 minutes)
QUICK_REPLIES = BUTTONS_MAX  # quick-reply buttons on a message
LABEL_MAX = BUTTON_LABEL_MAX  # characters of a quick-reply label
MEDIA_DAYS = 14  # a patient's picture stays fetchable this long (LINE may fetch it again when opened)
DOCUMENT_HOURS = 1  # a /mydata export's link works this long (a bearer link to a health record: short)
MENU = ("today", "symptom", "ask", "history", "settings", "help")  # quick replies under a message asking nothing
RETRY_NAMESPACE = uuid.UUID("5b0c2f3e-8f1a-4b7e-9a55-1f3c2d4e6a70")  # X-Line-Retry-Key = uuid5(this, key)


class LineChannel:
    """One per process (bot/app.py): the SDK's client, the push counter and the people's LINE ids."""

    def __init__(self, rt: Runtime) -> None:
        _secret, token, public = rt.settings.require_line()
        self.rt = rt
        self.public = public
        self.media: MediaLibrary = rt.media
        config = Configuration(host=rt.settings.line_api_base_url, access_token=token)
        config.connection_pool_maxsize = rt.settings.delivery_concurrency + 8  # as Telegram's transport
        self.client = AsyncApiClient(config)
        self.api = AsyncMessagingApi(self.client)
        self.quota = Quota(rt)
        self._line_ids: dict[int, str] = {}
        self._patients: set[int] = set()

    async def close(self) -> None:
        await self.client.close()

    # --- the port ----------------------------------------------------------------------------------
    async def send(self, chat_id: int, replies: Sequence[Reply], *, key: str | None = None,
                   answering: Answering | None = None) -> None:
        messages = await self.render(chat_id, replies)
        priority = priority_of(replies)
        # an answer of more than one request goes by push alone: every part then has its retry key, so a part that
        # failed is sent again without repeating the parts LINE took (a reply has no retry key)
        token = self._fresh_token(answering) if len(messages) <= PER_REQUEST else None
        if token is not None and await self._reply(token, messages):
            return
        # LINE's id is looked up only for a push: a reply needs the token alone (the answer to /delete goes after
        # the person's line_user row was erased)
        to = await self._line_id(chat_id)
        for i in range(0, len(messages), PER_REQUEST):
            await self._push(to, messages[i:i + PER_REQUEST], priority, chat_id,
                             retry_key=_retry_key(key, i // PER_REQUEST), answering=answering is not None)

    async def _is_patient(self, chat_id: int) -> bool:
        """An enrolled patient (not someone signing up, who is asked to type): remembered once true."""
        if chat_id not in self._patients:
            async with self.rt.db.session() as s:
                if await patients.by_user(s, chat_id) is None:
                    return False
            self._patients.add(chat_id)
        return True

    def _fresh_token(self, answering: Answering | None) -> str | None:
        if answering is None or answering.reply_token is None:
            return None
        age = self.rt.clock.now() - answering.received_at
        return answering.reply_token if age < timedelta(seconds=self.rt.settings.line_reply_token_seconds) else None

    async def _line_id(self, chat_id: int) -> str:
        if chat_id not in self._line_ids:
            async with self.rt.db.session() as s:
                found = await stored.line_id_of(s, chat_id)
            if found is None:
                raise Rejected("no LINE user with this number (erased)")
            self._line_ids[chat_id] = found
        return self._line_ids[chat_id]

    # --- sending -----------------------------------------------------------------------------------
    async def _reply(self, token: str, messages: list[Any]) -> bool:
        """Send with the reply token (free); False when LINE no longer takes the token (push instead)."""
        try:
            await self.api.reply_message_with_http_info(ReplyMessageRequest(reply_token=token, messages=messages),
                                                        _request_timeout=TIMEOUT)
        except ApiException as exc:
            if exc.status == 400 and "reply token" in _message(exc).lower():
                log.info("LINE: reply token no longer valid; pushing the answer instead")
                return False
            raise _port_error(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(f"{type(exc).__name__}") from None
        await self.quota.replied()
        return True

    async def _push(self, to: str, messages: list[Any], priority: Priority, chat_id: int, *, retry_key: str,
                    answering: bool) -> None:
        if self.quota.plan_due():
            await self._read_plan()
        reserved = await self.quota.reserve(priority, answering=answering)  # raises Held near the limit
        try:
            await self.api.push_message_with_http_info(PushMessageRequest(to=to, messages=messages),
                                                       x_line_retry_key=retry_key, _request_timeout=TIMEOUT)
        except (ApiException, aiohttp.ClientError, TimeoutError) as exc:
            if reserved:  # not taken now (a 409: counted when LINE first accepted it)
                await self.quota.give_back()
            if not isinstance(exc, ApiException):
                raise Unavailable(f"{type(exc).__name__}") from None
            if exc.status == 409:  # this retry key was accepted before: delivered once already
                log.info("LINE: push already accepted (retry key); not sent again")
                return
            error = _port_error(exc)
            if isinstance(error, Held):
                await self.quota.spent(chat_id, priority, retry_key)
            raise error from None
        if not reserved:
            await self.quota.pushed()

    async def _read_plan(self) -> None:
        """The account's monthly allowance and LINE's count of it (see quota.py); kept as it was if LINE does not
        answer."""
        try:
            plan = await self.api.get_message_quota(_request_timeout=TIMEOUT)
            used = await self.api.get_message_quota_consumption(_request_timeout=TIMEOUT)
        except (ApiException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("LINE: the monthly allowance could not be read (%s)", type(exc).__name__)
            self.quota.plan_read_at = self.rt.clock.now()
            return
        allowance = plan.value if plan.type == "limited" else None
        await self.quota.plan_read(allowance, used.total_usage)

    # --- rendering ---------------------------------------------------------------------------------
    async def render(self, chat_id: int, replies: Sequence[Reply]) -> list[Any]:
        """LINE message objects for a batch; the last reply's buttons as quick replies on the last message."""
        out: list[Any] = []
        cards: list[_Card] = []
        for reply in replies:
            for item in await self._render_one(chat_id, reply):
                if isinstance(item, _Card):
                    cards.append(item)
                    continue
                out.extend(_cards(cards))
                cards = []
                out.append(item)
        out.extend(_cards(cards))
        buttons = [b for row in (replies[-1].buttons if replies else []) for b in row]
        if not buttons and await self._is_patient(chat_id):  # LINE has no command menu: the main commands as
            buttons = [(t(f"command.{name}"), f"{COMMAND}{name}") for name in MENU]  # quick replies
        if buttons and out:
            if len(buttons) > QUICK_REPLIES:
                log.error("LINE: %d buttons on one message; only %d shown", len(buttons), QUICK_REPLIES)
            buttons = buttons[:QUICK_REPLIES]
            long = any(len(label) > LABEL_MAX for label, _ in buttons)
            last = out[-1]
            if long and not isinstance(last, TextMessage):  # the choices are listed in a text: one of its own
                last = TextMessage(text=t("line.choose_below"))
                out.append(last)
            if long:  # the choices in full in the text, numbered
                last.text = "\n\n".join(p for p in (last.text, "\n".join(
                    f"{i}. {label}" for i, (label, _) in enumerate(buttons, 1))) if p)
                buttons = [(f"{i}. {label}", data) for i, (label, data) in enumerate(buttons, 1)]
            last.quick_reply = QuickReply(items=[_button(label, data) for label, data in buttons])
        return out

    async def _render_one(self, chat_id: int, reply: Reply) -> list[Any]:
        """The messages of one Reply; a picture with its caption is a `_Card`, which `render` puts with the cards
        around it into one flex message (a carousel), so the day's exercises are one message, not twelve."""
        if reply.document is not None:
            name, content = reply.document
            link = await self._host(chat_id, content, "text/csv" if name.endswith(".csv") else "application/json",
                                    name, timedelta(hours=DOCUMENT_HOURS))
            text = "\n\n".join(p for p in (reply.text, t("line.document_link", url=link, hours=DOCUMENT_HOURS)) if p)
            return [TextMessage(text=text)]
        url: str | None = None
        if reply.photo is not None:
            url = await self._host(chat_id, reply.photo, "image/png", "picture.png", timedelta(days=MEDIA_DAYS))
        elif reply.picture_id is not None:
            try:
                found = await self.media.resolve(reply.picture_id)
            except (LookupError, OSError) as exc:
                log.warning("picture %s cannot be sent (%s); its text goes alone", reply.picture_id,
                            type(exc).__name__)
            else:
                if found.kind == "video":  # a clinic's video: a link under its caption
                    return [TextMessage(text="\n".join(p for p in (reply.text, found.url or "") if p))]
                url = found.url or (f"{self.public}/line/media/p/{quote(reply.picture_id, safe='')}/"
                                    f"{found.digest[:16]}.png")
        if url is None:
            return [TextMessage(text=reply.text)] if reply.text else []
        if not reply.text:
            return [ImageMessage(original_content_url=url, preview_image_url=url)]
        return [_Card(url, reply.text)]

    async def _host(self, chat_id: int, content: bytes, content_type: str, name: str, keep: timedelta) -> str:
        """Keep bytes for LINE to fetch under an unguessable token; the URL."""
        token = secrets.token_urlsafe(32)
        now = self.rt.clock.now()
        async with self.rt.db.session() as s:
            await stored.host(s, token=token, user=chat_id, content_type=content_type, file_name=name,
                              content=content, now=now, expires_at=now + keep)
        return f"{self.public}/line/media/h/{token}"


@dataclass(frozen=True)
class _Card:
    """A picture and its caption, shown together as one bubble of a flex message."""

    url: str
    text: str


def _cards(cards: list[_Card]) -> list[Any]:
    """Cards as flex messages: one bubble, or carousels of up to 12 (the alt text, shown in notifications and
    the chat list: each card's first line)."""
    out: list[Any] = []
    for i in range(0, len(cards), BUBBLES):
        part = cards[i:i + BUBBLES]
        bubbles = [FlexBubble(hero=FlexImage(url=c.url, size="full", aspect_ratio="20:13", aspect_mode="fit"),
                              body=FlexBox(layout="vertical", contents=[FlexText(text=c.text, wrap=True, size="sm")]))
                   for c in part]
        alt = "・".join(c.text.splitlines()[0] for c in part)[:ALT_MAX]
        out.append(FlexMessage(alt_text=alt, contents=bubbles[0] if len(bubbles) == 1
                               else FlexCarousel(contents=bubbles)))
    return out


def _button(label: str, data: str) -> QuickReplyItem:
    """A quick reply; a label longer than LINE's 20 characters is cut (its choice is listed in full in the
    message), and the chat shows the whole label as the person's own message when tapped."""
    shown = label if len(label) <= LABEL_MAX else label[:LABEL_MAX - 1] + "…"
    return QuickReplyItem(action=PostbackAction(label=shown, data=data, display_text=label.split(". ", 1)[-1]))


def _retry_key(key: str | None, part: int) -> str:
    """The same UUID for every retry of the same message part (a fresh one when nothing names the send)."""
    return str(uuid.uuid5(RETRY_NAMESPACE, f"{key}:{part}") if key is not None else uuid.uuid4())


def _message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        return ""


def _port_error(exc: ApiException) -> Exception:
    """LINE's error as the port's (the log gets the status and LINE's message, never the request)."""
    status, message = exc.status or 0, _message(exc)
    if status == 429 and "monthly limit" in message.lower():
        log.error("LINE: the account's monthly message allowance is spent (%s)", message)
        return Held("LINE: monthly limit reached")
    if status == 429:
        after = (exc.headers or {}).get("Retry-After")
        return RetryLater(float(after) if after and str(after).isdigit() else 10.0)
    if status >= 500 or status == 0:
        return Unavailable(f"LINE {status}: {message}")
    if status in (401, 403):  # the access token revoked or the channel's plan: every message would fail alike
        log.error("LINE: %s %s; check LINE_CHANNEL_ACCESS_TOKEN and the channel in the LINE console", status, message)
        return Unavailable(f"LINE {status}: {message}")
    log.error("LINE refused a message: %s %s", status, message)
    return Rejected(f"LINE {status}: {message}")
