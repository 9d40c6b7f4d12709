"""Red-flag check-in (rf:open -> rf:<flag>): a reported red flag stops exercise and alerts the clinic."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import coaching
from bot.handlers.common import answer_press, closed, not_enrolled, patient_of, send
from bot.i18n import t
from bot.replies import Reply
from bot.runtime import runtime
from rules import Flag


def flag_menu() -> Reply:
    rows = [[(t(f"flag.{f}"), f"rf:{f}")] for f in Flag]
    return Reply(t("checkin.which"), [*rows, [(t("button.no_symptom"), "rf:none")]])


async def open_menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rf:open, or /symptom: show the list of warning signs as buttons."""
    rt = runtime(context)
    async with rt.db.session() as s:
        p = await patient_of(s, rt, update)
    if p is None:
        await (closed(update) if update.callback_query else not_enrolled(update))
        return
    await answer_press(update, keep_buttons=True)
    await send(update, flag_menu())


async def on_flag(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    value = update.callback_query.data.split(":", 1)[1]
    if value == "none":
        await answer_press(update)
        await send(update, Reply(t("checkin.none")))
        return
    if value not in Flag.__members__.values():
        await closed(update)
        return
    async with rt.db.session() as s:
        p = await patient_of(s, rt, update)
        reply = await coaching.report_red_flags(s, rt, p, frozenset({Flag(value)}), "checkin") if p else None
    if reply is None:
        await closed(update)
        return
    await answer_press(update, note=t("checkin.recorded", flag=t(f"flag.{value}")))
    await send(update, reply)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("symptom", open_menu))
    app.add_handler(CallbackQueryHandler(open_menu, pattern=r"^rf:open$"))
    app.add_handler(CallbackQueryHandler(on_flag, pattern=r"^rf:[a-z_]+$"))
