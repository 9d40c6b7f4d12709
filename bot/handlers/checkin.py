"""Red-flag check-in (rf:open -> rf:<flag>): a reported red flag stops exercise and alerts the clinic."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks, coaching
from bot.coaching import patients as patient_state
from bot.coaching import safety
from bot.handlers.common import PatientTurn, handler
from bot.i18n import t
from bot.replies import Reply, join
from bot.runtime import Runtime
from bot.storage import sessions
from bot.storage.models import Patient
from rules import MENU_FLAGS
from rules.redflags import ITEM_FLAGS


def flag_menu() -> Reply:
    rows = [[(t(f"flag.{f}"), callbacks.RedFlag(f).data)] for f in MENU_FLAGS]
    return Reply(t("checkin.which"), [*rows, [(t("button.no_symptom"), callbacks.RedFlag("none").data)]])


async def heard(s: AsyncSession, rt: Runtime, p: Patient, items: frozenset[str]) -> Reply:
    """Symptom words typed as free text (rules.detect_symptoms): the check-in, instead of "no question". An
    emergency sign the check-in's buttons do not list (chest pain, breathlessness, fainting, worsening leg
    weakness) is reported at once, as a button would: recorded, 119 advice, urgent alert, held for clearance."""
    typed = frozenset(ITEM_FLAGS[i] for i in items if i in ITEM_FLAGS and ITEM_FLAGS[i] not in MENU_FLAGS)
    if typed:
        return await coaching.report_red_flags(s, rt, p, typed, "text")
    menu = flag_menu()
    return Reply(join(t("checkin.heard"), menu.text), menu.buttons, priority="safety")


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


@handler("patient", never_dropped=True)
async def on_flag_again(turn: PatientTurn) -> None:
    """fa:<prompt>:ok|still — the morning after a rest-today red flag. Gone: the program resumes by itself;
    still there: it stays paused, the clinic's contact is given and tomorrow morning asks again."""
    s, rt, p = turn.s, turn.rt, turn.patient
    press = callbacks.FlagAgain.parse(turn.data)
    prompt = await sessions.take_answer(s, press.prompt_id, p.id, press.choice, rt.clock.now(),
                                        kinds=press.prompt_kinds) if press is not None else None
    if press is None or prompt is None or await safety.open_hold(s, p) is not None:
        turn.closed()
        return
    turn.ack()
    if press.choice == "ok" and await patient_state.resume(s, rt, p):
        turn.send(Reply(t("redflag.again_ok", time=p.exercise_time)))
    else:
        turn.send(Reply(join(t("redflag.again_still", **safety.contact(rt)), await safety.ask_again(s, rt, p)),
                        priority="safety"))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("symptom", open_menu))
    app.add_handler(CallbackQueryHandler(open_menu, pattern=r"^rf:open$"))
    app.add_handler(CallbackQueryHandler(on_flag, pattern=callbacks.PATTERNS["rf"]))
    app.add_handler(CallbackQueryHandler(on_flag_again, pattern=callbacks.PATTERNS["fa"]))
