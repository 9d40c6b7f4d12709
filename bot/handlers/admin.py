"""Admins (ADMIN_TELEGRAM_IDS): /invite, /clinicians, /remove_clinician ID, /assign PATIENT CLINICIAN.

Anyone else, clinicians included, gets the same polite refusal as for every clinician command.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import menus
from bot.handlers.clinician import patient_link, refuse
from bot.handlers.common import as_int, send
from bot.i18n import t
from bot.replies import Reply
from bot.runtime import Runtime, runtime
from bot.storage import clinicians
from bot.storage.models import Patient


def is_admin(rt: Runtime, update: Update) -> bool:
    user = update.effective_user
    return user is not None and user.id in rt.settings.admin_telegram_ids


def _when(rt: Runtime, instant) -> str:
    local = instant.astimezone(ZoneInfo(rt.settings.clinic_timezone))
    return f"{local.month}/{local.day} {local:%H:%M}"


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite: a single-use code valid INVITE_VALID_HOURS, for a clinician to send as /clinician CODE."""
    rt = runtime(context)
    if not is_admin(rt, update):
        await refuse(update)
        return
    async with rt.db.session() as s:
        row = await clinicians.create_invite(s, created_by=update.effective_user.id, now=rt.clock.now(),
                                             valid=timedelta(hours=rt.settings.invite_valid_hours))
    await send(update, Reply(t("admin.invite.done", code=row.code, expires=_when(rt, row.expires_at))))


async def list_clinicians(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/clinicians: active clinicians, their patient counts and patient invite links."""
    rt = runtime(context)
    if not is_admin(rt, update):
        await refuse(update)
        return
    async with rt.db.session() as s:
        rows = await clinicians.active_list(s)
        unassigned = await clinicians.unassigned_count(s)
    if not rows:
        text = "\n".join([t("admin.clinicians.none"), t("admin.clinicians.head", n=0, unassigned=unassigned)])
    else:
        lines = [t("admin.clinicians.head", n=len(rows), unassigned=unassigned)]
        lines += [t("admin.clinicians.line", id=c.id, name=c.name, patients=n, joined=_when(rt, c.joined_at),
                    link=patient_link(context, c.link_code)) for c, n in rows]
        text = "\n".join(lines)
    await send(update, Reply(text))


async def remove_clinician(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove_clinician ID: their patients become unassigned; their weekly summaries stop."""
    rt = runtime(context)
    if not is_admin(rt, update):
        await refuse(update)
        return
    cid = as_int(context.args[0]) if context.args else None
    if cid is None:
        await send(update, Reply(t("admin.remove.usage")))
        return
    async with rt.db.session() as s:
        c = await clinicians.get_active(s, cid)
        moved = await clinicians.remove(s, cid, rt.clock.now()) if c is not None else None
    if c is None or moved is None:
        await send(update, Reply(t("admin.not_found")))
        return
    await menus.clear_chat_menu(context.bot, c.chat_id)
    await send(update, Reply(t("admin.remove.done", id=cid, name=c.name, n=moved)))


async def assign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/assign PATIENT CLINICIAN: (re)assign a patient; later alerts and summaries follow the new clinician."""
    rt = runtime(context)
    if not is_admin(rt, update):
        await refuse(update)
        return
    args = context.args or []
    pid, cid = (as_int(args[0]), as_int(args[1])) if len(args) == 2 else (None, None)
    if pid is None or cid is None:
        await send(update, Reply(t("admin.assign.usage")))
        return
    async with rt.db.session() as s:
        p = await s.get(Patient, pid)
        c = await clinicians.get_active(s, cid)
        if p is not None and c is not None:
            p.clinician_id = c.id
    if p is None or c is None:
        await send(update, Reply(t("admin.not_found")))
        return
    await send(update, Reply(t("admin.assign.done", nickname=p.nickname, patient_id=p.id, name=c.name,
                               clinician_id=c.id)))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CommandHandler("clinicians", list_clinicians))
    app.add_handler(CommandHandler("remove_clinician", remove_clinician))
    app.add_handler(CommandHandler("assign", assign))
