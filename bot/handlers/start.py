"""/start, /help, /why, and everything that is not a command we know: text is routed to the enrolment,
/settings input or the open rating question; stickers, photos and unknown commands get a kind hint."""

from __future__ import annotations

import random

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot import coaching
from bot.delivery.kinds import WHY_TOPICS
from bot.handlers import patient_settings, session, signup
from bot.handlers.common import not_enrolled, patient_of, send
from bot.i18n import t
from bot.replies import Reply, join
from bot.runtime import runtime
from bot.storage import clinicians, patients

MAX_TEXT = 500


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    async with rt.db.session() as s:
        p = await patient_of(s, rt, update)
        sign = await patients.signup_of(s, update.effective_user.id) if p is None else None
        if p is not None:
            reply = Reply(join(t("start.patient", nickname=p.nickname, time=p.exercise_time), coaching.plan_lines(p)))
        elif sign is not None:
            q = signup.question(sign)
            reply = Reply(join(t("signup.resume"), q.text), q.buttons)
        else:
            # a clinician's invite link (/start c_<code>): the trial button carries that clinician
            code = context.args[0][2:] if context.args and context.args[0].startswith("c_") else None
            c = await clinicians.by_link_code(s, code[:24]) if code else None
            reply = Reply(t("start.welcome"), [[(t("button.trial"), f"trial:{c.id}" if c else "trial")]])
    await send(update, reply)


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send(update, Reply(t("help.text")))


async def why(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    topic = random.Random(update.effective_message.message_id if update.effective_message else 0).choice(WHY_TOPICS)
    await send(update, Reply(t(topic)))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text: enrolment step, /settings input, or a rating; anything else gets a kind hint."""
    rt = runtime(context)
    text = update.effective_message.text or ""
    async with rt.db.session() as s:
        sign = await patients.signup_of(s, update.effective_user.id)
        p = await patient_of(s, rt, update) if sign is None else None
        if len(text) > MAX_TEXT:
            reply = Reply(t("common.too_long"))
        elif sign is not None:
            reply = await signup.on_text(s, rt, sign, text)
        elif p is None:
            reply = None
        elif p.awaiting:
            reply = await patient_settings.on_text(s, rt, p, text)
        else:
            reply = await session.on_rating_text(s, rt, p, text)
    if reply is None:
        await not_enrolled(update)
    else:
        await send(update, reply)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files...: we can only read buttons and short text."""
    await send(update, Reply(t("common.not_text")))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send(update, Reply(t("common.unknown_command")))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_))
    app.add_handler(CommandHandler("why", why))


def register_fallbacks(app: Application) -> None:
    """Registered last: they catch what no feature handler took."""
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, on_other))
