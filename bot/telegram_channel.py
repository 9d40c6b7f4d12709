"""The Telegram adapter's rendering and sending: one `send_to()` turns a channel-neutral Reply into one
Telegram message (used by the handlers' answers and by delivery), and `TelegramChannel` is the
messaging port (bot/coaching/messages.py) for delivery: Telegram's errors become the port's errors."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.coaching.messages import Blocked, Rejected, Reply, RetryLater, Unavailable
from bot.telegram_limiter import Lane, sending_in


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """The choice buttons as an inline keyboard (each button's value is its callback data)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in reply.buttons])


async def send_to(bot: Bot, chat_id: int, reply: Reply) -> None:
    """Render a Reply as one Telegram message: a document, a photo with its caption, or text; with buttons."""
    if reply.document is not None:
        name, content = reply.document
        await bot.send_document(chat_id, document=content, filename=name, caption=reply.text or None)
    elif reply.photo is not None:
        await bot.send_photo(chat_id, photo=reply.photo, caption=reply.text or None, reply_markup=markup(reply))
    else:
        await bot.send_message(chat_id, reply.text, reply_markup=markup(reply), entities=entities(reply))


def entities(reply: Reply) -> list[MessageEntity] | None:
    """The `link` as a text link to tg://user?id=... on its characters (offsets in UTF-16 code units). A
    text link, not a URL button: Telegram refuses a whole message whose button points to a user whose privacy
    settings forbid it, while a text link simply shows as plain text."""
    if reply.link is None or reply.link[0] not in reply.text:
        return None
    part, user_id = reply.link

    def units(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    offset = units(reply.text[:reply.text.rindex(part)])
    return [MessageEntity(MessageEntity.TEXT_LINK, offset, units(part), url=f"tg://user?id={user_id}")]


class TelegramChannel:
    """The messaging port on Telegram, for delivery: its sends go through the rate limiter's bulk lane
    (handlers' answers, sent with `send_to` directly, take the interactive lane: bot/telegram_limiter.py)."""

    def __init__(self, bot: Bot, lane: Lane = Lane.BULK) -> None:
        self.bot = bot
        self.lane = lane

    async def send(self, chat_id: int, reply: Reply) -> None:
        try:
            with sending_in(self.lane):
                await send_to(self.bot, chat_id, reply)
        except RetryAfter as exc:
            after = exc.retry_after
            raise RetryLater(after if isinstance(after, int | float) else after.total_seconds()) from None
        except Forbidden:
            raise Blocked() from None
        except BadRequest as exc:
            raise Rejected(f"400 {exc.message}") from None
        except (NetworkError, TelegramError) as exc:  # timeouts and 5xx
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
