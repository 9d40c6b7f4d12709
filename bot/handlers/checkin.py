"""Red-flag check-in (rf:open -> rf:<group> -> rf:<flag>): a reported red flag stops exercise and alerts the clinic.

Two steps, so that no message has more than LINE's 13 quick replies: "which kind" (rules.MENU_GROUPS), then the
signs of that kind; each sign is recorded as its `Flag`, with its tier (rules/redflags.toml)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks, coaching
from bot.coaching import patients as patient_state
from bot.coaching import safety
from bot.coaching.messages import Reply, join
from bot.handlers.common import PatientTurn, handler
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import sessions
from bot.storage.models import Patient
from rules import MENU_FLAGS, MENU_GROUPS, Flag
from rules.redflags import ITEM_FLAGS

# Emergencies of exercise (ACSM) and a worsening weakness: typed, the 119 line comes before the buttons.
_TYPED_EMERGENCIES = frozenset({*MENU_GROUPS["sudden"], Flag.LEG_WEAKNESS_WORSENING})
# Buttons typed words suggest besides their items' own: the nearest button for an item without one, and for
# fever the same-day signs that go with it (so fever with a hot knee is not reported as fever alone).
_SUGGESTS: dict[str, tuple[Flag, ...]] = {
    "new_numbness": (Flag.NUMBNESS_WEAKNESS,),
    "fever": (Flag.FEVER_HOT_KNEE, Flag.FEVER_BACK_PAIN),
}
_NONE = callbacks.RedFlag("none").data
_GROUPS = callbacks.RedFlag("open").data


def _flag_data(f: Flag) -> str:
    return callbacks.RedFlag(f).data


def flag_menu() -> Reply:
    """Step 1: which kind of sign (a handful of buttons), or none."""
    return Reply(t("checkin.which_group"), safety.group_buttons(lambda g: callbacks.RedFlag(g).data, _NONE))


def group_menu(group: str) -> Reply:
    """Step 2: the signs of one kind, each recorded as its Flag."""
    return Reply(t("checkin.which"), safety.sign_buttons(MENU_GROUPS[group], _flag_data, _GROUPS, _NONE))


async def heard(s: AsyncSession, rt: Runtime, p: Patient, items: frozenset[str]) -> Reply:
    """Symptom words typed as free text (rules.detect_symptoms): the check-in, instead of "no question", at the
    signs the words suggest (other kinds one tap away); nothing is recorded until the patient taps one. Words of
    an emergency sign put the emergency line first (call 119 now, without waiting for a button)."""
    suggested = {f for i in items for f in ((ITEM_FLAGS[i],) if i in ITEM_FLAGS else ()) + _SUGGESTS.get(i, ())}
    flags = tuple(f for f in MENU_FLAGS if f in suggested)
    if not flags:
        menu = flag_menu()
        return Reply(join(t("checkin.heard"), menu.text), menu.buttons, priority="safety")
    first = t("checkin.heard_emergency") if _TYPED_EMERGENCIES & set(flags) else ""
    return Reply(join(first, t("checkin.heard"), t("checkin.which")),
                 safety.sign_buttons(flags, _flag_data, _GROUPS, _NONE), priority="safety")


@handler("patient", never_dropped=True)
async def open_menu(turn: PatientTurn) -> None:
    """rf:open, or /symptom: the kinds of warning signs as buttons."""
    turn.ack(keep_buttons=True)
    turn.send(flag_menu())


@handler("patient", never_dropped=True)
async def on_flag(turn: PatientTurn) -> None:
    press = callbacks.RedFlag.parse(turn.data)
    if press is not None and press.value == "none":
        turn.ack()
        turn.send(Reply(t("checkin.none")))
        return
    if press is not None and press.group is not None:
        turn.ack(keep_buttons=True)
        turn.send(group_menu(press.group))
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
    still there: it stays paused, the clinic's contact is given and tomorrow morning asks again (the second time in
    a row: the clinician is alerted, once, and the patient asked to phone the clinic)."""
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
        turn.send(Reply(await safety.still_there_reply(s, rt, p), priority="safety"))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("symptom", open_menu))
    app.add_handler(CallbackQueryHandler(open_menu, pattern=r"^rf:open$"))
    app.add_handler(CallbackQueryHandler(on_flag, pattern=callbacks.PATTERNS["rf"]))
    app.add_handler(CallbackQueryHandler(on_flag_again, pattern=callbacks.PATTERNS["fa"]))
