"""What every handler needs: the patient behind an update, and sending a Reply."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import BadRequest

from bot.coaching import patients as patient_state
from bot.i18n import t
from bot.replies import Reply
from bot.runtime import Runtime
from bot.storage import patients
from bot.storage.models import Patient

log = logging.getLogger(__name__)


async def patient_of(s: AsyncSession, rt: Runtime, update: Update) -> Patient | None:
    """The enrolled patient who sent this update. A patient Telegram marked unreachable (403) wrote
    again: they are reachable, and their reminders are planned again."""
    user = update.effective_user
    if user is None:
        return None
    p = await patients.by_user(s, user.id)
    if p is not None:
        await patient_state.reachable(s, rt, p)
    return p


async def send(update: Update, reply: Reply) -> None:
    """Answer in the chat the update came from (a new message, so history stays readable)."""
    chat = update.effective_chat
    if chat is None:
        return
    if reply.document is not None:
        name, content = reply.document
        await chat.send_document(content, filename=name, caption=reply.text or None)
    elif reply.photo is not None:
        await chat.send_photo(reply.photo, caption=reply.text or None, reply_markup=reply.markup)
    else:
        await chat.send_message(reply.text, reply_markup=reply.markup)


async def answer_press(update: Update, toast: str | None = None, *, keep_buttons: bool = False,
                       note: str | None = None) -> None:
    """Acknowledge a button press; take the buttons off the answered question so it reads as done."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(toast)
    except BadRequest:  # the query is too old to answer; nothing to do
        pass
    if keep_buttons or query.message is None:
        return
    try:
        if note and getattr(query.message, "text", None):
            await query.edit_message_text(f"{query.message.text}\n\n{note}")
        else:
            await query.edit_message_reply_markup(None)
    except BadRequest:  # already edited (double tap) or too old: harmless
        pass


async def say(update: Update, text: str) -> None:
    """A short notice: as a pop-up on a pressed button (the chat stays uncluttered), else as a message."""
    query = update.callback_query
    if query is None:
        await send(update, Reply(text))
        return
    try:
        await query.answer(text, show_alert=True)
    except BadRequest:  # the press is too old to answer
        pass


async def closed(update: Update) -> None:
    """A press for an old, answered or someone else's question: say so, change nothing."""
    await say(update, t("common.closed"))


async def not_enrolled(update: Update) -> None:
    await send(update, Reply(t("common.not_enrolled"), [[(t("button.trial"), "trial")]]))


def split_data(data: str | None, parts: int) -> list[str] | None:
    """`rt:12:3` -> ["rt", "12", "3"]; None when the data has another shape (forged or stale)."""
    if not data:
        return None
    items = data.split(":")
    return items if len(items) == parts else None


def as_int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 12 else None
