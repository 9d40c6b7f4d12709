"""Clinicians: /clinician CODE (join), /summary [week], /patients, /patient ID, /export, and the
"open detail" button (cp:<patient id>) on alerts and charts.

Access: a clinician sees only their own patients, an admin sees all. Everyone else, and a clinician asking
about a patient who is not theirs or does not exist, gets the same polite refusal (`refuse`), which says
nothing about what exists.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import alerts, menus
from bot.handlers.common import answer_press, as_int, say, send
from bot.i18n import t
from bot.replies import Reply
from bot.reports import build
from bot.reports import text as report_text
from bot.reports.export import export_csv
from bot.runtime import Runtime, runtime
from bot.storage import clinicians
from bot.storage.clinicians import Viewer
from bot.timeplan import local_date

ATTENTION_BUTTONS = 10  # /patients: buttons for the first patients needing attention
DETAIL_DAYS = 7


async def refuse(update: Update) -> None:
    """The one answer for everyone not allowed: the same words whatever they asked for."""
    await say(update, t("clinic.refused"))


async def viewer_of(s: AsyncSession, rt: Runtime, update: Update) -> Viewer | None:
    user = update.effective_user
    if user is None:
        return None
    return await clinicians.viewer(s, rt.settings.admin_telegram_ids, user.id)


def patient_link(context: ContextTypes.DEFAULT_TYPE, code: str) -> str:
    return t("clinic.patient_link", bot=context.bot.username or "", code=code)


# --- joining ---------------------------------------------------------------------------------------

async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/clinician CODE: redeem an admin's single-use, expiring invite."""
    rt = runtime(context)
    user, chat = update.effective_user, update.effective_chat
    code = (context.args or [""])[0] if context.args else ""
    if not code:
        await send(update, Reply(t("clinic.join.usage")))
        return
    now = rt.clock.now()
    async with rt.db.session() as s:
        existing = await clinicians.by_user(s, user.id)
        if existing is not None:
            reply = Reply(t("clinic.join.already", name=existing.name))
        else:
            c = await clinicians.redeem(s, code=code[:24], telegram_user_id=user.id, chat_id=chat.id,
                                        name=(user.full_name or str(user.id))[:64], now=now)
            if c is None:
                reply = Reply(t("clinic.join.invalid"))
            else:
                await alerts.schedule_summary(s, rt, c, after=now)
                weekday = t("report.weekdays").split(",")[rt.settings.summary_weekday]
                reply = Reply(t("clinic.join.done", name=c.name, weekday=weekday, time=rt.settings.summary_time,
                                link=patient_link(context, c.link_code)))
                await menus.set_chat_menu(context.bot, chat.id, admin=user.id in rt.settings.admin_telegram_ids)
    await send(update, reply)


# --- reading ---------------------------------------------------------------------------------------

async def summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/summary [今週|先週|2026-W49|W49|2026-12-09]: the weekly summary now (text + charts)."""
    rt = runtime(context)
    async with rt.db.session() as s:
        v = await viewer_of(s, rt, update)
        if v is None:
            replies = None
        else:
            today = local_date(rt.clock.now(), rt.settings.clinic_timezone)
            period = build.parse_week(" ".join(context.args or []), today)
            if period is None:
                replies = [Reply(t("clinic.summary.usage"))]
            else:
                name = None if v.scope is None else v.clinician.name  # type: ignore[union-attr]
                replies = await build.summary_replies(s, rt, v.scope, period, scope_name=name,
                                                      max_charts=rt.settings.summary_max_patient_charts)
    if replies is None:
        await refuse(update)
        return
    for reply in replies:
        await send(update, reply)


async def patients_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/patients: every patient of this clinician (admins: all), attention first, with this week's status."""
    rt = runtime(context)
    async with rt.db.session() as s:
        v = await viewer_of(s, rt, update)
        if v is not None:
            period = build.this_week(rt)
            found = await build.summaries(s, rt, v.scope, period)
    if v is None:
        await refuse(update)
        return
    buttons = [[(f"{t(f'report.mark.{x.tier}')} {x.patient.nickname}（{x.patient.id}）", f"cp:{x.patient.id}")]
               for x in found if x.tier == "attention"][:ATTENTION_BUTTONS]
    await send(update, Reply(report_text.patients_list(found, period), buttons))


async def _detail(s: AsyncSession, rt: Runtime, v: Viewer, patient_id: int) -> list[Reply] | None:
    """One patient's detail (this week's block, the dose, the last 7 days) and their 4-week chart;
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
    text = report_text.patient_detail(found, recent, tz=tz, clinician_name=names.get(p.clinician_id),
                                      trial_ends_on=p.trial_ends_on, enrolled_at=p.enrolled_at)
    chart = await build.patient_chart(rt, found, today, sessions[p.id], marks[p.id])
    if chart is None:  # logged by build.drawn; the detail goes out without it
        return [Reply(text)]
    caption = t("report.chart_caption", mark=t(f"report.mark.{found.tier}"), nickname=p.nickname, id=p.id)
    return [Reply(text), Reply(caption, photo=chart.png)]


async def patient(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/patient ID"""
    rt = runtime(context)
    pid = as_int(context.args[0]) if context.args else None
    async with rt.db.session() as s:
        v = await viewer_of(s, rt, update)
        if v is None:
            replies = None
        elif pid is None:
            replies = [Reply(t("clinic.patient.usage"))]
        else:
            replies = await _detail(s, rt, v, pid)
    if replies is None:
        await refuse(update)
        return
    for reply in replies:
        await send(update, reply)


async def open_patient(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """cp:<patient id> — the button on alerts, summary charts and /patients."""
    rt = runtime(context)
    pid = as_int(update.callback_query.data.split(":", 1)[1])
    async with rt.db.session() as s:
        v = await viewer_of(s, rt, update)
        replies = await _detail(s, rt, v, pid) if v is not None and pid is not None else None
    if replies is None:
        await refuse(update)
        return
    await answer_press(update, keep_buttons=True)
    for reply in replies:
        await send(update, reply)


# --- export ----------------------------------------------------------------------------------------

async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export: a CSV of this clinician's patients' ratings and decisions (admins: all patients)."""
    rt = runtime(context)
    async with rt.db.session() as s:
        v = await viewer_of(s, rt, update)
        content = await export_csv(s, rt, v.scope) if v is not None else None
    if content is None:
        await refuse(update)
        return
    today = local_date(rt.clock.now(), rt.settings.clinic_timezone)
    await send(update, Reply(t("clinic.export.caption"), document=(f"itami_export_{today:%Y%m%d}.csv", content)))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("clinician", join))
    app.add_handler(CommandHandler("summary", summary))
    app.add_handler(CommandHandler("patients", patients_))
    app.add_handler(CommandHandler("patient", patient))
    app.add_handler(CommandHandler("export", export))
    app.add_handler(CallbackQueryHandler(open_patient, pattern=r"^cp:"))
