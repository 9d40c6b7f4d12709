"""The patient's own data: /history (last 14 days), /mydata (everything, as a file), /delete (erasure)."""

from __future__ import annotations

import json

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.coaching import patients as patient_state
from bot.handlers.common import answer_press, not_enrolled, patient_of, send
from bot.i18n import t
from bot.replies import Reply
from bot.runtime import runtime
from bot.storage import patients, sessions
from bot.timeplan import local_date


def _cell(value: int | None) -> str:
    return "－" if value is None else str(value)


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    async with rt.db.session() as s:
        p = await patient_of(s, rt, update)
        rows = await sessions.recent(s, p.id, until=local_date(rt.clock.now(), p.timezone)) if p else []
    if p is None:
        await not_enrolled(update)
        return
    if not rows:
        await send(update, Reply(t("history.empty")))
        return
    lines = [t("history.header")]
    for r in rows:
        lines.append(t("history.row", date=r.local_date.strftime("%m/%d"), before=_cell(r.before),
                       during=_cell(r.during), after=_cell(r.after), morning=_cell(r.next_morning),
                       status=t(f"history.status.{r.status}")))
    await send(update, Reply(t("history.title") + "\n" + "\n".join(lines) + "\n\n" + t("history.legend")))


async def mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    async with rt.db.session() as s:
        p = await patient_of(s, rt, update)
        data = await patients.export(s, p) if p else None
    if data is None:
        await send(update, Reply(t("mydata.nothing")))
        return
    content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await send(update, Reply(t("mydata.caption"), document=("itami-coach-mydata.json", content)))


async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send(update, Reply(t("delete.confirm"), [[(t("button.delete_yes"), "del:yes")],
                                                   [(t("button.delete_no"), "del:no")]]))


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    if update.callback_query.data != "del:yes":
        await answer_press(update)
        await send(update, Reply(t("delete.kept")))
        return
    async with rt.db.session() as s:
        erased = await patient_state.delete(s, rt, update.effective_user.id)
    await answer_press(update)
    await send(update, Reply(t("delete.done" if erased else "mydata.nothing")))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("history", history))
    app.add_handler(CommandHandler("mydata", mydata))
    app.add_handler(CommandHandler("delete", delete))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=r"^del:(yes|no)$"))
