"""Message objects: validation as the Messaging API does it, the recorded :class:`LineMessage`, ids.

Validation errors answer 400 ``{"message": "The request body has N error(s)", "details": [...]}``
with one detail per problem, each naming the JSON property (``messages[0].text``), as the real API does
(https://developers.line.biz/en/reference/messaging-api/#error-responses). The detail *messages* are
modelled on the real ones; callers should match on ``property``, not on the wording.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_MESSAGES = 5
MAX_TEXT = 5000  # UTF-16 code units: a surrogate pair (most emoji) counts 2, as LINE counts characters
MAX_QUICK_REPLY_ITEMS = 13
MAX_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_ACTION_TEXT = 300
MAX_URL = 2000
MESSAGE_TYPES = ("text", "image", "video", "flex")
MAX_ALT_TEXT = 400  # a flex message's altText (shown in notifications and the chat list)
MAX_BUBBLES = 12  # bubbles in a flex carousel
QUOTABLE = ("text", "image", "video")
ACTION_TYPES = ("postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location", "clipboard")
_LOOPBACK_HTTP = ("http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/")


class ApiError(Exception):
    """An error answer: ``status`` and the JSON ``body`` (``{"message": ..., "details"?: [...]}``)."""

    def __init__(self, status: int, message: str, *, reason: str, details: list[dict[str, str]] | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.reason = reason  # the key counted in stats["rejected"]
        self.body: dict[str, Any] = {"message": message}
        if details:
            self.body["details"] = details
        if extra:
            self.body.update(extra)
        self.headers = headers or {}


def validation_error(details: list[dict[str, str]]) -> ApiError:
    return ApiError(400, f"The request body has {len(details)} error(s)", reason="validation", details=details)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_url(url: Any, prop: str, allow_http_media: bool, errors: list[dict[str, str]]) -> None:
    if not isinstance(url, str) or not url:
        errors.append({"message": "must be specified", "property": prop})
        return
    if len(url) > MAX_URL:
        errors.append({"message": f"Length must be between 0 and {MAX_URL}", "property": prop})
    ok = url.startswith("https://") or (allow_http_media and url.startswith(_LOOPBACK_HTTP))
    if not ok:
        errors.append({"message": "must be a valid HTTPS URL", "property": prop})


def _check_length(value: Any, limit: int, prop: str, errors: list[dict[str, str]], *, required: bool) -> None:
    if value is None or value == "":
        if required:
            errors.append({"message": "must be specified", "property": prop})
        return
    if not isinstance(value, str):
        errors.append({"message": "must be a string", "property": prop})
    elif utf16_len(value) > limit:
        errors.append({"message": f"Length must be between 0 and {limit}", "property": prop})


def _check_action(action: Any, prop: str, errors: list[dict[str, str]]) -> None:
    if not isinstance(action, dict):
        errors.append({"message": "must be specified", "property": prop})
        return
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        errors.append({"message": "Invalid action type", "property": f"{prop}.type"})
        return
    # In a quick reply every action but camera/cameraRoll/location needs a label (<= 20 characters).
    _check_length(action.get("label"), MAX_LABEL, f"{prop}.label", errors,
                  required=kind not in ("camera", "cameraRoll", "location"))
    if kind == "postback":
        _check_length(action.get("data"), MAX_POSTBACK_DATA, f"{prop}.data", errors, required=True)
        _check_length(action.get("displayText"), MAX_ACTION_TEXT, f"{prop}.displayText", errors, required=False)
    elif kind == "message":
        _check_length(action.get("text"), MAX_ACTION_TEXT, f"{prop}.text", errors, required=True)


def _check_quick_reply(quick: Any, prop: str, errors: list[dict[str, str]]) -> None:
    items = quick.get("items") if isinstance(quick, dict) else None
    if not isinstance(items, list):
        errors.append({"message": "must be specified", "property": f"{prop}.items"})
        return
    if len(items) > MAX_QUICK_REPLY_ITEMS:
        errors.append({"message": f"Size must be between 0 and {MAX_QUICK_REPLY_ITEMS}", "property": f"{prop}.items"})
    for j, item in enumerate(items):
        if not isinstance(item, dict) or item.get("type") != "action":
            errors.append({"message": "Invalid quick reply item type", "property": f"{prop}.items[{j}].type"})
            continue
        _check_action(item.get("action"), f"{prop}.items[{j}].action", errors)


def _check_flex(msg: dict[str, Any], prop: str, allow_http_media: bool, errors: list[dict[str, str]]) -> None:
    """A flex message: altText, and a bubble or a carousel of at most 12 bubbles; every image URL https."""
    _check_length(msg.get("altText"), MAX_ALT_TEXT, f"{prop}.altText", errors, required=True)
    contents = msg.get("contents") or {}
    bubbles = contents.get("contents") if contents.get("type") == "carousel" else [contents]
    if contents.get("type") not in ("bubble", "carousel") or not isinstance(bubbles, list):
        errors.append({"message": "must be a bubble or a carousel", "property": f"{prop}.contents"})
        return
    if not 1 <= len(bubbles) <= MAX_BUBBLES:
        errors.append({"message": f"Size must be between 1 and {MAX_BUBBLES}", "property": f"{prop}.contents"})
    for j, bubble in enumerate(bubbles):
        if not isinstance(bubble, dict) or bubble.get("type") != "bubble":
            errors.append({"message": "must be a bubble", "property": f"{prop}.contents.contents[{j}]"})
            continue
        for url in flex_images(bubble):
            _check_url(url, f"{prop}.contents.contents[{j}].hero.url", allow_http_media, errors)


def _flex_find(node: Any, kind: str, key: str) -> list[str]:
    """The `key` of every component of type `kind` inside a flex container, in order."""
    if isinstance(node, dict):
        own = [node[key]] if node.get("type") == kind and key in node else []
        return own + [u for k, v in node.items() if k != key for u in _flex_find(v, kind, key)]
    if isinstance(node, list):
        return [u for v in node for u in _flex_find(v, kind, key)]
    return []


def flex_images(node: Any) -> list[str]:
    """Every image URL inside a flex container."""
    return _flex_find(node, "image", "url")


def flex_texts(node: Any) -> list[str]:
    """Every text inside a flex container, in order."""
    return _flex_find(node, "text", "text")


def validate_messages(messages: Any, *, allow_http_media: bool) -> list[dict[str, Any]]:
    """Return the message objects, or raise a 400 :class:`ApiError` listing every problem found."""
    if not isinstance(messages, list):
        raise validation_error([{"message": "must be specified", "property": "messages"}])
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise validation_error([{"message": f"Size must be between 1 and {MAX_MESSAGES}", "property": "messages"}])
    errors: list[dict[str, str]] = []
    for i, msg in enumerate(messages):
        prop = f"messages[{i}]"
        if not isinstance(msg, dict):
            errors.append({"message": "must be an object", "property": prop})
            continue
        kind = msg.get("type")
        if kind not in MESSAGE_TYPES:
            errors.append({"message": "Invalid message type", "property": f"{prop}.type"})
            continue
        if kind == "text":
            _check_length(msg.get("text"), MAX_TEXT, f"{prop}.text", errors, required=True)
        elif kind == "flex":
            _check_flex(msg, prop, allow_http_media, errors)
        else:
            _check_url(msg.get("originalContentUrl"), f"{prop}.originalContentUrl", allow_http_media, errors)
            _check_url(msg.get("previewImageUrl"), f"{prop}.previewImageUrl", allow_http_media, errors)
        if "quickReply" in msg and msg["quickReply"] is not None:
            _check_quick_reply(msg["quickReply"], f"{prop}.quickReply", errors)
    if errors:
        raise validation_error(errors)
    return messages


@dataclass(frozen=True, slots=True)
class LineMessage:
    """One message object the bot sent, as the user's chat shows it."""

    chat_id: str  # user id (1:1 chat) or group/room id
    via: str  # "reply" | "push"
    message: dict[str, Any]
    at: datetime  # the stand-in's clock when the request was accepted
    request_id: str  # x-line-request-id of the accepting request
    retry_key: str | None = None
    notification_disabled: bool = False
    id: str = ""
    quick_replies: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        return self.message.get("text") if self.message.get("type") == "text" else None

    @property
    def images(self) -> list[str]:
        """The picture URLs this message shows: an image message's, or every image in a flex message."""
        if self.message.get("type") == "image":
            return [self.message["originalContentUrl"]]
        return flex_images(self.message.get("contents")) if self.message.get("type") == "flex" else []

    @property
    def card_texts(self) -> list[str]:
        """The texts of a flex message's bubbles, in order."""
        return flex_texts(self.message.get("contents")) if self.message.get("type") == "flex" else []

    def summary(self) -> str:
        body = self.text if self.text is not None else self.message.get("originalContentUrl", "")
        buttons = f" [{' | '.join(label for label, _ in self.quick_replies)}]" if self.quick_replies else ""
        return f"{self.via} {self.message.get('type')}: {body!r}{buttons}"


def quick_replies_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, postback data or message text) of each quick-reply button of a message object."""
    quick = message.get("quickReply") or {}
    out: list[tuple[str, str]] = []
    for item in quick.get("items") or []:
        action = item.get("action") or {}
        value = action.get("data") if action.get("type") == "postback" else action.get("text", action.get("uri", ""))
        out.append((action.get("label", ""), value or ""))
    return out


# ==== ids ===========================================================================================
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_user_id() -> str:
    """A LINE user id: ``U`` + 32 lowercase hex characters."""
    return "U" + os.urandom(16).hex()


def new_group_id() -> str:
    """A LINE group id: ``C`` + 32 hex characters (rooms are ``R`` + 32)."""
    return "C" + os.urandom(16).hex()


def new_ulid(ms: int | None = None) -> str:
    """26 characters of Crockford base32: a 48-bit millisecond time then 80 random bits (ULID layout)."""
    value = ((ms if ms is not None else int(time.time() * 1000)) & (2**48 - 1)) << 80
    value |= int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))
