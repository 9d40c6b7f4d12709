"""Clinicians: /clinician CODE (join), /summary [week], /patients, /patient ID, /export, and the
"open detail" button (cp:<patient id>) on alerts, the summary and /patients.

Access: a clinician sees only their own patients, an admin sees all. Everyone else, and a clinician asking
about a patient who is not theirs or does not exist, gets the same polite refusal (`refuse`), which says
nothing about what exists.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import alerts, menus
from bot.callbacks import PATTERNS, Acknowledge, OpenPatient
from bot.coaching.messages import Reply
from bot.handlers import controls
from bot.handlers.common import ClinicianTurn, Turn, anyone, clinician_handler, handler, is_admin
from bot.i18n import t
from bot.parsing import parse_name
from bot.reports import build
from bot.reports import text as report_text
from bot.reports.export import export_csv
from bot.runtime import Runtime
from bot.storage import clinicians
from bot.storage.clinicians import Viewer
from bot.storage.models import Outbox
from bot.timeplan import local_date

log = logging.getLogger(__name__)

CLINICIAN_NAME_MAX = 64  # a clinician's name, from their Telegram name
ATTENTION_BUTTONS = 10  # /patients: buttons for the first patients needing attention
DETAIL_DAYS = 14  # the patient card: the last two weeks


def patient_link(turn: Turn, code: str) -> str:
    return t("clinic.patient_link", bot=turn.bot.username or "", code=code)


# --- joining ---------------------------------------------------------------------------------------

@anyone
async def join(turn: Turn) -> None:
    """/clinician CODE: redeem an admin's single-use, expiring invite."""
    s, rt, user = turn.s, turn.rt, turn.user
    code = turn.args[0] if turn.args else ""
    if not code:
        turn.send(Reply(t("clinic.join.usage")))
        return
    now = rt.clock.now()
    existing = await clinicians.by_user(s, user.id)
    if existing is not None:
        turn.send(Reply(t("clinic.join.already", name=existing.name)))
        return
    name = parse_name(user.full_name, CLINICIAN_NAME_MAX) or t("clinic.unnamed", id=user.id)
    c = await turn.invite(lambda: clinicians.redeem(s, code=code[:24], telegram_user_id=user.id,
                                                    chat_id=turn.chat_id, name=name, now=now))
    if turn.waiting:
        return
    if c is None:
        turn.send(Reply(t("clinic.join.invalid")))
        return
    await alerts.schedule_summary(s, rt, c, after=now)
    weekday = t("report.weekdays").split(",")[rt.settings.summary_weekday]
    turn.send(Reply(t("clinic.join.done", name=c.name, weekday=weekday, time=rt.settings.summary_time,
                      link=patient_link(turn, c.link_code))))
    await menus.set_chat_menu(turn.bot, turn.chat_id, admin=is_admin(rt, user.id))


# --- reading ---------------------------------------------------------------------------------------

@clinician_handler
async def summary(turn: ClinicianTurn) -> None:
    """/summary [今週|先週|2026-W49|W49|2026-12-09]: the weekly summary now (text + charts)."""
    s, rt, v = turn.s, turn.rt, turn.viewer
    today = local_date(rt.clock.now(), rt.settings.clinic_timezone)
    period = build.parse_week(" ".join(turn.args), today)
    if period is None:
        turn.send(Reply(t("clinic.summary.usage")))
        return
    name = None if v.scope is None or v.clinician is None else v.clinician.name  # scope: a clinician's own
    turn.send(*await build.summary_replies(s, rt, v.scope, period, scope_name=name,
                                           max_charts=rt.settings.summary_max_patient_charts))


@clinician_handler
async def patients_(turn: ClinicianTurn) -> None:
    """/patients: every patient of this clinician (admins: all), attention first, with this week's status."""
    period = build.this_week(turn.rt)
    found = await build.summaries(turn.s, turn.rt, turn.viewer.scope, period)
    buttons = [[(build.open_label(x), OpenPatient(x.patient.id).data)]
               for x in found if x.tier == "attention"][:ATTENTION_BUTTONS]
    turn.send(Reply(report_text.patients_list(found, period), buttons))


async def _detail(s: AsyncSession, rt: Runtime, v: Viewer, patient_id: int) -> list[Reply] | None:
    """The patient card: this week's block, the dose, the last 14 days, the 4-week chart, then the controls (status,
    limits, open alerts and questions, private notes, the audit log, buttons: bot/handlers/controls.py);
    None when this viewer may not see them or they do not exist (the caller refuses the same way)."""
    p = await clinicians.may_see(s, v, patient_id)
    if p is None:
        return None
    tz = rt.settings.clinic_timezone
    period = build.this_week(rt)
    [found] = await build.summaries(s, rt, None, period, ids=[p.id])
    today = local_date(rt.clock.now(), tz)
    sessions, marks = await build.chart_data(s, rt, [p.id], today)
    recent = [r for r in sessions[p.id] if r.day > today - timedelta(days=DETAIL_DAYS)]
    names = await clinicians.names(s)
    text = report_text.patient_detail(found, recent, tz=tz, clinician_name=names.get(p.clinician_id or 0),
                                      trial_ends_on=p.trial_ends_on, enrolled_at=p.enrolled_at)
    chart = await build.patient_chart(rt, found, today, sessions[p.id], marks[p.id])
    controls_part = await controls.card(s, rt, p)  # last: its buttons (docs/architecture.md, the messaging port)
    if chart is None:  # logged by build.drawn; the detail goes out without it
        return [Reply(text), controls_part]
    caption = t("report.chart_caption", mark=t(f"report.mark.{found.tier}"), nickname=p.nickname, id=p.id)
    return [Reply(text), Reply(caption, photo=chart.png), controls_part]


@clinician_handler
async def patient(turn: ClinicianTurn) -> None:
    """/patient ID"""
    pid = turn.id_argument(t("clinic.patient.usage"))
    if pid is None:
        return
    replies = await _detail(turn.s, turn.rt, turn.viewer, pid)
    if replies is None:
        turn.refuse()
        return
    turn.send(*replies)


@handler("clinician", staff_chat=True)
async def open_patient(turn: ClinicianTurn) -> None:
    """cp:<patient id> — the button on alerts, the summary's last message and /patients."""
    press = OpenPatient.parse(turn.data)
    replies = await _detail(turn.s, turn.rt, turn.viewer, press.n) if press is not None else None
    if replies is None:
        turn.refuse()
        return
    turn.ack(t("clinic.sent_privately") if turn.in_staff_chat else None, keep_buttons=True)
    turn.send(*replies)


@handler("anyone", staff_chat=True, stores=False)
async def acknowledge(turn: Turn) -> None:
    """ak:<alert> — 「対応しました」 under an alert: records who pressed it and when (the first press counts), which
    stops its re-notification; the pressed message shows who took it on. Allowed in the staff chat, and in a
    private chat for the patient's clinician and admins; everyone else gets the one refusal."""
    s, rt = turn.s, turn.rt
    press = Acknowledge.parse(turn.data)
    alert = await s.get(Outbox, press.n) if press is not None else None
    patient_id = alert.patient_id if alert is not None and alert.kind == "alert" else None
    signup = alert is not None and alert.kind == "staff_notice" and "tier" in alert.payload  # a signup red flag
    viewer = await clinicians.viewer(s, rt.settings.admin_telegram_ids, turn.user.id)
    if patient_id is not None:
        allowed = turn.in_staff_chat or (viewer is not None and await clinicians.may_see(s, viewer, patient_id)
                                         is not None)
    else:  # a signup: no patient yet, so no clinician of theirs: the staff chat and admins
        allowed = signup and (turn.in_staff_chat or (viewer is not None and viewer.admin))
    if not allowed or alert is None:
        turn.refuse()
        return
    name = viewer.clinician.name if viewer is not None and viewer.clinician is not None else \
        (parse_name(turn.user.full_name, CLINICIAN_NAME_MAX) or t("clinic.unnamed", id=turn.user.id))
    now = rt.clock.now()
    alerts.acknowledge(alert, by=turn.user.id, name=name, at=now)
    ack = alerts.acknowledged(alert) or {}
    when = datetime.fromisoformat(ack["at"]).astimezone(rt.settings.tz)
    turn.ack(note=t("alert.acknowledged", name=ack.get("name", name), when=f"{when.month}/{when.day} {when:%H:%M}"))
    log.info("alert %s acknowledged by user %s", alert.id, ack.get("by"))


# --- export ----------------------------------------------------------------------------------------

@clinician_handler
async def export(turn: ClinicianTurn) -> None:
    """/export: a CSV of this clinician's patients' ratings and decisions (admins: all patients)."""
    content = await export_csv(turn.s, turn.rt, turn.viewer.scope)
    today = local_date(turn.rt.clock.now(), turn.rt.settings.clinic_timezone)
    turn.send(Reply(t("clinic.export.caption"), document=(f"itami_export_{today:%Y%m%d}.csv", content)))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("clinician", join))
    app.add_handler(CommandHandler("summary", summary))
    app.add_handler(CommandHandler("patients", patients_))
    app.add_handler(CommandHandler("patient", patient))
    app.add_handler(CommandHandler("export", export))
    app.add_handler(CallbackQueryHandler(open_patient, pattern=PATTERNS["cp"]))
    app.add_handler(CallbackQueryHandler(acknowledge, pattern=PATTERNS["ak"]))
