"""The Telegram adapter: `TelegramChannel` is the messaging port (bot/coaching/messages.py) on Telegram, for
the handlers' answers and for delivery; `send_to()` turns one channel-neutral Reply into one Telegram message,
and Telegram's errors become the port's errors.

A picture named by its id (no bytes in the Reply) is resolved through the MediaLibrary (bot/media.py):
uploaded the first time, then sent by the file_id Telegram gave back (kept in `media_file`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, MessageEntity
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels import channel_of
from bot.coaching.messages import Answering, Blocked, Rejected, Reply, RetryLater, Unavailable
from bot.media import Media, MediaLibrary
from bot.telegram_limiter import Lane, sending_in

CHANNEL = "telegram"  # this adapter's rows in `media_file`
log = logging.getLogger(__name__)


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """The choice buttons as an inline keyboard (each button's value is its callback data)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in reply.buttons])


async def send_to(bot: Bot, chat_id: int, reply: Reply, media: MediaLibrary | None = None) -> None:
    """Render a Reply as one Telegram message: a document, a photo (its bytes, or named by its picture id and
    resolved through `media`) or a video with its caption, or text; with buttons."""
    if reply.document is not None:
        name, content = reply.document
        await bot.send_document(chat_id, document=content, filename=name, caption=reply.text or None)
    elif reply.photo is not None:
        await bot.send_photo(chat_id, photo=reply.photo, caption=reply.text or None, reply_markup=markup(reply))
    elif reply.picture_id is not None and media is not None:
        await _send_named(bot, chat_id, reply, reply.picture_id, media)
    else:
        await bot.send_message(chat_id, reply.text, reply_markup=markup(reply), entities=entities(reply))


async def _send_named(bot: Bot, chat_id: int, reply: Reply, picture_id: str, media: MediaLibrary) -> None:
    """A picture or video by its id: by Telegram's file_id when it has it, else uploaded (or by URL) once, the
    file_id kept; sends at the same moment wait for that first upload. A file_id Telegram no longer knows is
    forgotten and the picture uploaded again. A picture that cannot be found (a clinic's file removed) leaves
    the text alone (its caption: what the exercise is and how to do it)."""
    try:
        found = await media.resolve(picture_id)
    except (LookupError, OSError) as exc:
        log.warning("picture %s cannot be sent (%s); its text goes alone", picture_id, type(exc).__name__)
        await bot.send_message(chat_id, reply.text, reply_markup=markup(reply))
        return
    key = (CHANNEL, picture_id, found.digest)
    known = await media.file_id(*key)
    if known is not None:
        try:
            await _send_media(bot, chat_id, reply, found, known)
            return
        except BadRequest as exc:
            if "file" not in exc.message.lower():
                raise
            await media.forget(*key)
    async with media.lock(*key):
        known = await media.file_id(*key)  # uploaded meanwhile by a send that held the lock
        if known is not None:
            await _send_media(bot, chat_id, reply, found, known)
            return
        source: str | InputFile = found.url if found.url is not None else InputFile(found.data or b"", found.name)
        sent = await _send_media(bot, chat_id, reply, found, source)
        file_id = sent.photo[-1].file_id if sent.photo else sent.video.file_id if sent.video else None
        if file_id is not None:
            await media.remember(*key, file_id)


async def _send_media(bot: Bot, chat_id: int, reply: Reply, found: Media, source: str | InputFile) -> Message:
    if found.kind == "video":
        return await bot.send_video(chat_id, video=source, caption=reply.text or None, reply_markup=markup(reply))
    return await bot.send_photo(chat_id, photo=source, caption=reply.text or None, reply_markup=markup(reply))


def entities(reply: Reply) -> list[MessageEntity] | None:
    """The `link` as a text link to tg://user?id=... on its characters (offsets in UTF-16 code units). A
    text link, not a URL button: Telegram refuses a whole message whose button points to a user whose privacy
    settings forbid it, while a text link simply shows as plain text."""
    if reply.link is None or reply.link[0] not in reply.text or channel_of(reply.link[1]) != "telegram":
        return None  # a LINE user has no Telegram chat to open: the name stays plain text
    part, user_id = reply.link

    def units(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    offset = units(reply.text[:reply.text.rindex(part)])
    return [MessageEntity(MessageEntity.TEXT_LINK, offset, units(part), url=f"tg://user?id={user_id}")]


class TelegramChannel:
    """The messaging port on Telegram. Delivery's sends go through the rate limiter's bulk lane; a handler's
    answer (`answering`) through the interactive lane, served first (bot/telegram_limiter.py). Telegram has no
    idempotency key, so `key` is not used."""

    def __init__(self, bot: Bot, media: MediaLibrary | None = None) -> None:
        self.bot = bot
        self.media = media

    async def send(self, chat_id: int, replies: Sequence[Reply], *, key: str | None = None,
                   answering: Answering | None = None) -> None:
        try:
            with sending_in(Lane.INTERACTIVE if answering is not None else Lane.BULK):
                for reply in replies:
                    await send_to(self.bot, chat_id, reply, self.media)
        except RetryAfter as exc:
            after = exc.retry_after
            raise RetryLater(after if isinstance(after, int | float) else after.total_seconds()) from None
        except Forbidden:
            raise Blocked() from None
        except BadRequest as exc:
            raise Rejected(f"400 {exc.message}") from None
        except (NetworkError, TelegramError) as exc:  # timeouts and 5xx (the cause kept for the log's traceback)
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
