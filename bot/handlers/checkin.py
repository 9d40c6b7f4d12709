"""Red-flag check-in (rf:open -> rf:<flag>): a reported red flag stops exercise and alerts the clinic."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks, coaching
from bot.handlers.common import PatientTurn, handler
from bot.i18n import t
from bot.replies import Reply
from rules import Flag


def flag_menu() -> Reply:
    rows = [[(t(f"flag.{f}"), callbacks.RedFlag(f).data)] for f in Flag]
    return Reply(t("checkin.which"), [*rows, [(t("button.no_symptom"), callbacks.RedFlag("none").data)]])


@handler("patient", never_dropped=True)
async def open_menu(turn: PatientTurn) -> None:
    """rf:open, or /symptom: show the list of warning signs as buttons."""
    turn.ack(keep_buttons=True)
    turn.send(flag_menu())


@handler("patient", never_dropped=True)
async def on_flag(turn: PatientTurn) -> None:
    press = callbacks.RedFlag.parse(turn.data)
    if press is not None and press.value == "none":
        turn.ack()
        turn.send(Reply(t("checkin.none")))
        return
    if press is None or press.flag is None:
        turn.closed()
        return
    reply = await coaching.report_red_flags(turn.s, turn.rt, turn.patient, frozenset({press.flag}), "checkin")
    turn.ack(note=t("checkin.recorded", flag=t(f"flag.{press.flag}")))
    turn.send(reply)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("symptom", open_menu))
    app.add_handler(CallbackQueryHandler(open_menu, pattern=r"^rf:open$"))
    app.add_handler(CallbackQueryHandler(on_flag, pattern=callbacks.PATTERNS["rf"]))
