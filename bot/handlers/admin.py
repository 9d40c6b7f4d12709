"""Admins (ADMIN_TELEGRAM_IDS): /invite, /clinicians, /remove_clinician ID, /assign PATIENT CLINICIAN.

Anyone else, clinicians included, gets the same polite refusal as for every clinician command.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram.ext import Application, CommandHandler

from bot import menus
from bot.callbacks import parse_id
from bot.coaching.messages import Reply
from bot.handlers.clinician import patient_link
from bot.handlers.common import Turn, admin_only
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import clinicians
from bot.storage.models import Patient


def _when(rt: Runtime, instant) -> str:
    local = instant.astimezone(ZoneInfo(rt.settings.clinic_timezone))
    return f"{local.month}/{local.day} {local:%H:%M}"


@admin_only
async def invite(turn: Turn) -> None:
    """/invite: a single-use code valid INVITE_VALID_HOURS, for a clinician to send as /clinician CODE."""
    rt = turn.rt
    row = await clinicians.create_invite(turn.s, created_by=turn.user.id, now=rt.clock.now(),
                                         valid=timedelta(hours=rt.settings.invite_valid_hours))
    turn.send(Reply(t("admin.invite.done", code=row.code, expires=_when(rt, row.expires_at))))


@admin_only
async def list_clinicians(turn: Turn) -> None:
    """/clinicians: active clinicians, their patient counts and patient invite links."""
    rt = turn.rt
    rows = await clinicians.active_list(turn.s)
    unassigned = await clinicians.unassigned_count(turn.s)
    if not rows:
        text = "\n".join([t("admin.clinicians.none"), t("admin.clinicians.head", n=0, unassigned=unassigned)])
    else:
        lines = [t("admin.clinicians.head", n=len(rows), unassigned=unassigned)]
        lines += [t("admin.clinicians.line", id=c.id, name=c.name, patients=n, joined=_when(rt, c.joined_at),
                    link=patient_link(turn, c.link_code)) for c, n in rows]
        text = "\n".join(lines)
    turn.send(Reply(text))


@admin_only
async def remove_clinician(turn: Turn) -> None:
    """/remove_clinician ID: their patients become unassigned; their weekly summaries stop."""
    cid = turn.id_argument(t("admin.remove.usage"))
    if cid is None:
        return
    c = await clinicians.get_active(turn.s, cid)
    moved = await clinicians.remove(turn.s, cid, turn.rt.clock.now()) if c is not None else None
    if c is None or moved is None:
        turn.send(Reply(t("admin.not_found")))
        return
    await menus.clear_chat_menu(turn.bot, c.chat_id)
    turn.send(Reply(t("admin.remove.done", id=cid, name=c.name, n=moved)))


@admin_only
async def assign(turn: Turn) -> None:
    """/assign PATIENT CLINICIAN: (re)assign a patient; later alerts and summaries follow the new clinician."""
    args = turn.args
    pid, cid = (parse_id(args[0]), parse_id(args[1])) if len(args) == 2 else (None, None)
    if pid is None or cid is None:
        turn.send(Reply(t("admin.assign.usage")))
        return
    p = await turn.s.get(Patient, pid)
    c = await clinicians.get_active(turn.s, cid)
    if p is None or c is None:
        turn.send(Reply(t("admin.not_found")))
        return
    p.clinician_id = c.id
    turn.send(Reply(t("admin.assign.done", nickname=p.nickname, patient_id=p.id, name=c.name, clinician_id=c.id)))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("invite", invite))
    app.add_handler(CommandHandler("clinicians", list_clinicians))
    app.add_handler(CommandHandler("remove_clinician", remove_clinician))
    app.add_handler(CommandHandler("assign", assign))
