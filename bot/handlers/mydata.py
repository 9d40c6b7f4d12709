"""The patient's own data: /history (last 14 days), /mydata (everything, as a file), /delete (erasure)."""

from __future__ import annotations

import json

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import PATTERNS, Delete
from bot.coaching import patients as patient_state
from bot.coaching.messages import Reply
from bot.handlers.common import PatientTurn, Turn, handler, reads_or_erases
from bot.i18n import t
from bot.storage import patients, sessions
from bot.timeplan import local_date


def _cell(value: int | None) -> str:
    return "－" if value is None else str(value)


@handler("patient", stores=False)
async def history(turn: PatientTurn) -> None:
    p = turn.patient
    rows = await sessions.recent(turn.s, p.id, until=local_date(turn.rt.clock.now(), p.timezone))
    if not rows:
        turn.send(Reply(t("history.empty")))
        return
    lines = [t("history.header")]
    for r in rows:
        lines.append(t("history.row", date=r.local_date.strftime("%m/%d"), before=_cell(r.before),
                       during=_cell(r.during), after=_cell(r.after), morning=_cell(r.next_morning),
                       status=t(f"history.status.{r.status}")))
    turn.send(Reply(t("history.title") + "\n" + "\n".join(lines) + "\n\n" + t("history.legend")))


@reads_or_erases
async def mydata(turn: Turn) -> None:
    data = await patients.export(turn.s, turn.patient) if turn.patient else None
    if data is None:
        turn.send(Reply(t("mydata.nothing")))
        return
    content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    turn.send(Reply(t("mydata.caption"), document=("itami-coach-mydata.json", content)))


@reads_or_erases
async def delete(turn: Turn) -> None:
    turn.send(Reply(t("delete.confirm"), [[(t("button.delete_yes"), Delete(True).data)],
                                          [(t("button.delete_no"), Delete(False).data)]]))


@reads_or_erases
async def on_confirm(turn: Turn) -> None:
    press = turn.pressed_value(Delete.parse)
    if press is None:
        return
    turn.ack()
    if not press.yes:
        turn.send(Reply(t("delete.kept")))
        return
    erased = await patient_state.delete(turn.s, turn.rt, turn.user.id)
    turn.send(Reply(t("delete.done" if erased else "mydata.nothing")))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("history", history))
    app.add_handler(CommandHandler("mydata", mydata))
    app.add_handler(CommandHandler("delete", delete))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=PATTERNS["del"]))
