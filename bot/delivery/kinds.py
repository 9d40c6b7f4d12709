"""How each kind of due row is prepared, row by row (daily reminders: a batch at a time, reminders.py).

A preparation runs in a database transaction *before* sending: it checks the row is still relevant,
records the question it asks (a Prompt whose id goes into the buttons) and schedules what follows.
It returns the messages to send, or a final state when there is nothing to send. Each attaches itself to
its kind in the registry (bot/delivery/registry.py), which also holds the catch-up policy.
"""

from __future__ import annotations

import logging
import traceback
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot import alerts, callbacks, coaching
from bot.callbacks import rating_buttons
from bot.channels import channel_of
from bot.coaching import lessons, outcomes, progress, safety
from bot.coaching import patients as patient_state
from bot.coaching.messages import Reply, from_payload, join
from bot.coaching.questions import ANSWER_WITHIN
from bot.coaching.sessions import change_lines
from bot.delivery import reminders
from bot.delivery.registry import KINDS, Prepared, nothing, prepares, too_late
from bot.i18n import t
from bot.reports import text as report_text
from bot.reports.summary import Period
from bot.runtime import Runtime
from bot.storage import clinicians, outbox, patients, sessions
from bot.storage.models import ClinicNote, ExerciseSession, Outbox, Patient, PatientQuestion, RedFlagReport
from bot.timeplan import local_date
from rules import Element, load_redflags

log = logging.getLogger(__name__)



_active = patient_state.active


def _chat_line(user_id: int, nickname: str | None) -> str:
    """The line a clinician taps to open the person's chat (Telegram); a LINE user's chat has no link: it says
    so, and to phone or use the contact given at signup."""
    if channel_of(user_id) == "line":
        return t("alert.on_line", who=t("alert.who", nickname=nickname) if nickname else t("alert.who_signup"))
    return t("alert.chat_link", nickname=nickname) if nickname else t("alert.chat_link_signup")


async def _ask_once(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient, session: ExerciseSession | None,
                    kind: str) -> int:
    """The prompt this row asks; a retried delivery reuses the prompt it recorded the first time."""
    prompt_id = row.payload.get("prompt_id")
    if prompt_id is None:
        prompt = await sessions.ask(s, patient_id=p.id, kind=kind, now=rt.clock.now(),
                                    session_id=session.id if session else None)
        prompt_id = prompt.id
        row.payload = {**row.payload, "prompt_id": prompt_id}
    return prompt_id


@prepares("reminder_repeat")
async def _reminder_repeat(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    session = await sessions.get(s, row.session_id) if row.session_id else None
    if not _active(p) or session is None or session.status != "planned":
        return nothing()
    prompt_id = await _ask_once(s, rt, row, p, session, "reminder")
    now = rt.clock.now()
    n = int(row.payload.get("n", 1))
    await outbox.schedule(s, now=now, **coaching.reminder_follow_up(
        rt, p, session.id, n=n, after_row=row.id, now=now, snoozed=bool(row.payload.get("snooze"))))
    key = "reminder.snooze_over" if row.payload.get("snooze") else "reminder.repeat"
    text = join(t(key, nickname=p.nickname), coaching.plan_lines(p))
    pictures = coaching.plan.new_pictures(p)  # a program changed since the reminder: its new exercises
    return Prepared([(p.chat_id, reply) for reply in pictures]
                    + [(p.chat_id, Reply(text, [*reminders.buttons(prompt_id), *coaching.plan_buttons(p)]))])


@prepares("reminder_expire")
async def _reminder_expire(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """No answer to the reminder and its repeat: record the day as missed, quietly."""
    session = await sessions.get(s, row.session_id) if row.session_id else None
    if p is not None and session is not None and session.status == "planned":
        session.status = "missed"
        await sessions.close_open(s, patient_id=p.id, session_id=session.id, kinds=("reminder",))
    return nothing(outbox.DONE)


RATING_QUESTIONS = {  # kind of row -> (the rating it asks, the session statuses it needs, its text)
    "during_prompt": ("during", ("started",), "ask.during"),
    "after_prompt": ("after", ("started",), "ask.after"),
    # a session stopped by severe pain is followed up the next morning too (coaching.sessions._ask_next_morning)
    "morning_prompt": ("next_morning", ("done", "stopped"), "ask.next_morning"),
    "recheck": ("recheck", ("done", "stopped"), "ask.recheck"),
}


@prepares(*RATING_QUESTIONS)
async def _rating(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    kind, need_status, text_key = RATING_QUESTIONS[row.kind]
    session = await sessions.get(s, row.session_id) if row.session_id else None
    if not _active(p) or session is None or session.status not in need_status \
            or getattr(session, kind) is not None:
        return nothing()
    if row.payload.get("prompt_id") is None and await sessions.has_open(s, session.id, kind):
        return nothing()  # the patient already asked for this question with a tap
    if row.payload.get("severe") and row.payload.get("prompt_id") is None and await outbox.morning_question_near(
            s, p.id, session.id, row.due_at, timedelta(hours=2)):
        return nothing()  # the patient exercised since: that session's morning question follows it up (rules)
    prompt_id = await _ask_once(s, rt, row, p, session, kind)
    p.awaiting = None  # a typed number now answers this question, not a half-finished /settings input
    buttons = rating_buttons(prompt_id)
    if row.payload.get("severe"):  # the morning after a severe next-morning rating
        text_key = "ask.severe_follow_up"
    text = t(text_key, nickname=p.nickname)
    if kind == "next_morning":
        buttons = [*buttons, [(t("button.symptom"), callbacks.RedFlag("open").data)]]
        text = join(text, t("checkin.question"))
    return Prepared([(p.chat_id, Reply(text, buttons))])


async def _alert_body(s: AsyncSession, rt: Runtime, alert: Outbox,
                      p: Patient | None) -> tuple[str, tuple[str, int] | None]:
    """What a staff notice about a patient says: the tier (【至急】 for an emergency), the nickname and patient id,
    what was answered and when, a line that opens the patient's chat (the link), where to see more."""
    payload = alert.payload
    event = t(f"alert.event.{payload.get('event')}")
    nickname, patient_id = payload.get("nickname", "?"), payload.get("patient_id")
    flags: list[str] = []
    answered_at = alert.created_at
    if payload.get("event") in ("red_flag", "rest_today_persists") and p is not None:  # the signs reported
        report = await s.scalar(select(RedFlagReport).where(col(RedFlagReport.patient_id) == p.id)
                                .order_by(col(RedFlagReport.id).desc()).limit(1))
        if report is not None:  # the signs reported; when: the report (a red flag) or this morning's answer
            flags = list(report.flags)
            answered_at = report.created_at if payload.get("event") == "red_flag" else alert.created_at
    tier = load_redflags().tier(flags) if flags else None
    key = "alert.urgent" if payload.get("urgent") else "alert.text"
    local = answered_at.astimezone(rt.settings.tz)
    chat_line = _chat_line(p.telegram_user_id, nickname) if p is not None else ""
    ratings = t("alert.ratings", ratings=payload["ratings"]) if payload.get("ratings") else ""
    contact = t("alert.contact", contact=p.contact) if p is not None and p.contact else ""  # given at signup
    text = join(t(key, nickname=nickname, patient_id=patient_id, event=event),
                "\n".join(x for x in (t(f"alert.tier.{tier}") if tier else "", ratings, contact,
                                       report_text.alert_flags(flags),
                                       t("alert.answered_at", when=f"{local.month}/{local.day} {local:%H:%M}"))
                           if x),
                chat_line, t("alert.open_hint", patient_id=patient_id))
    return text, ((chat_line, p.telegram_user_id) if p is not None else None)


def _alert_buttons(alert_id: int, patient_id: int) -> list[list[tuple[str, str]]]:
    return [[(t("button.acknowledge"), callbacks.Acknowledge(alert_id).data)],
            [(t("button.open_patient"), callbacks.OpenPatient(patient_id).data)]]


@prepares("alert")
async def _alert(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """To the patient's clinician (else staff chat / admins): the tier, nickname, what was answered and when, a
    link to the patient's chat, and the buttons 「対応しました」 (ak:<this row>, recorded) and 「詳細を見る」
    (cp:<patient id>, allowed for that clinician and admins only)."""
    to = await alerts.recipients_for(s, rt, p)
    if not to:
        log.warning("alert for patient %s (%s): no clinician, STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS to send to",
                    row.payload.get("patient_id"), row.payload.get("event"))
        return nothing(outbox.DONE)
    text, link = await _alert_body(s, rt, row, p)
    buttons = _alert_buttons(row.id, int(row.payload["patient_id"]))
    return Prepared([(chat, Reply(text, buttons, priority="safety", link=link)) for chat in to])


@prepares("alert_renotify")
async def _alert_renotify(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """An emergency or same-day alert nobody acknowledged within ALERT_RENOTIFY_MINUTES: again, marked as such, to
    the staff chat and the admins (never to other clinicians); nothing once someone pressed 「対応しました」."""
    alert = await outbox.live_row(s, "alert", patient_id=row.patient_id, session_id=row.session_id,
                                  variant=row.variant)
    if alert is None or p is None or alerts.acknowledged(alert) is not None:
        return nothing(outbox.DONE)
    to = alerts.renotify_recipients(rt)
    if not to:
        log.warning("emergency alert for patient %s not acknowledged; no STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS to "
                    "send it again to", p.id)
        return nothing(outbox.DONE)
    text, link = await _alert_body(s, rt, alert, p)
    text = join(_renotify_line(rt, bool(alert.payload.get("urgent"))), text)
    return Prepared([(chat, Reply(text, _alert_buttons(alert.id, p.id), priority="safety", link=link))
                     for chat in to])


def _renotify_line(rt: Runtime, emergency: bool) -> str:
    """The first line of a notice sent again: 【至急・再送】 for an emergency, 【再送】 for a same-day sign."""
    return t("alert.renotify" if emergency else "alert.renotify_same_day", minutes=rt.settings.alert_renotify_minutes)


@prepares("alert_undelivered")
async def _alert_undelivered(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """The alert about this patient reached no one: they are asked to phone the clinic (bot/alerts.py)."""
    if p is None or p.unreachable:
        return nothing()
    return Prepared([(p.chat_id, Reply(t("redflag.undelivered", **safety.contact(rt)), priority="safety"))])


@prepares("flag_again")
async def _flag_again(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """The morning after a rest-today red flag: has the sign gone? Not asked when the patient resumed meanwhile,
    ended, or is held for a clinician's clearance."""
    if not patient_state.enrolled(p) or not p.paused or p.unreachable or await safety.open_hold(s, p) is not None:
        return nothing()
    prompt_id = await _ask_once(s, rt, row, p, None, "flag_again")
    return Prepared([(p.chat_id, Reply(t("redflag.again", nickname=p.nickname),
                                       [[(t("button.flag_gone"), callbacks.FlagAgain(prompt_id, "ok").data)],
                                        [(t("button.flag_still"), callbacks.FlagAgain(prompt_id, "still").data)]],
                                       priority="safety"))])


@prepares("cleared")
async def _cleared(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """A clinician cleared the patient after a red flag: the program goes on (see coaching.safety.clear)."""
    if not patient_state.active(p):
        return nothing()
    return Prepared([(p.chat_id, Reply(join(t("redflag.cleared", nickname=p.nickname, time=p.exercise_time),
                                            coaching.plan_lines(p)), coaching.plan_buttons(p)))])


@prepares("clinic_notice")
async def _clinic_notice(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """What the clinic did, told kindly (bot/coaching/controls.py), when it still holds: a pause is not announced
    to a patient resumed meanwhile; a note or reply is signed with the clinician's name."""
    if p is None or p.unreachable:
        return nothing()
    payload, nick = row.payload, p.nickname
    text = None
    match payload.get("event"):
        case "paused" if patient_state.enrolled(p) and p.paused:
            text = t("clinic_notice.paused", nickname=nick)
        case "resumed" if patient_state.active(p):
            text = t("clinic_notice.resumed", nickname=nick, time=p.exercise_time)
        case "kept_paused" if patient_state.enrolled(p) and p.paused:
            text = t("clinic_notice.kept_paused", nickname=nick, **safety.contact(rt))
        case "level" if patient_state.enrolled(p):
            before, after = (payload.get(k) or {} for k in ("levels_before", "levels_after"))
            changes = change_lines(p, {Element(e): n for e, n in before.items()},
                                   {Element(e): n for e, n in after.items()}) if before and after else ""
            text = join(t("clinic_notice.level", nickname=nick), changes, coaching.plan_lines(p))
        case "condition" if patient_state.enrolled(p):
            text = join(t("clinic_notice.condition", nickname=nick, condition=t(f"condition.{p.condition}")),
                        coaching.plan_lines(p))
        case "extended" if p.status == "trial":
            text = t("clinic_notice.extended", nickname=nick,
                     end=f"{p.trial_ends_on.month}/{p.trial_ends_on.day}")
        case "ended" if p.status == "ended":
            text = join(t("clinic_notice.ended", nickname=nick), t("trial.invite", **safety.contact(rt)))
        case "note":
            note = await s.get(ClinicNote, payload.get("note_id", 0))
            text = t("clinic_notice.note", name=note.author_name, text=note.text) if note is not None else None
        case "answer":
            q = await s.get(PatientQuestion, payload.get("question_id", 0))
            text = t("question.answer", name=q.answered_name or "", question=q.text[:200], answer=q.answer) \
                if q is not None and q.answer else None
    # what the staff wrote, and a hold kept for safety, reach the patient even near LINE's monthly limit
    personal = payload.get("event") in ("note", "answer", "kept_paused", "paused")
    return nothing() if text is None else Prepared([(p.chat_id, Reply(text, priority="safety" if personal
                                                                       else "essential"))])


@prepares("question", "question_overdue")
async def _question(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """A patient's question (coaching/questions.py) to their clinician, else the staff chat or the admins; a day
    later, still unanswered, again to the staff chat and the admins. Buttons: 返信する (qa:), 詳細を見る (cp:)."""
    q = await s.get(PatientQuestion, row.payload.get("question_id", 0))
    if p is None or q is None or q.answered_at is not None:
        return nothing(outbox.DONE)
    overdue = row.kind == "question_overdue"
    to = alerts.renotify_recipients(rt) if overdue else await alerts.recipients_for(s, rt, p)
    if not to:
        log.warning("question of patient %s: no clinician, STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS to send it to", p.id)
        return nothing(outbox.DONE)
    local = q.asked_at.astimezone(rt.settings.tz)
    text = t("question.to_clinic", nickname=p.nickname, patient_id=p.id, question_id=q.id, text=q.text,
             when=f"{local.month}/{local.day} {local:%H:%M}")
    if overdue:
        text = join(t("question.overdue", hours=int(ANSWER_WITHIN.total_seconds() // 3600)), text)
    buttons = [[(t("button.reply_question"), callbacks.ReplyQuestion(q.id).data)],
               [(t("button.open_patient"), callbacks.OpenPatient(p.id).data)]]
    chat_line = _chat_line(p.telegram_user_id, p.nickname)
    return Prepared([(chat, Reply(join(text, chat_line), buttons, link=(chat_line, p.telegram_user_id)))
                     for chat in to])


@prepares("weekly_summary")
async def _weekly_summary(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """A clinician's weekly summary: the next week's is scheduled (and committed), then this one is built from the
    database. A chart that cannot be drawn is left out (bot/reports/build.py: drawn)."""
    from bot.reports import build

    c = await clinicians.get_active(s, row.payload.get("clinician_id"))
    if c is None:  # removed meanwhile: no summary, no next one
        return nothing()
    # The next week's summary first: it is committed even if building this one fails (in a savepoint), and
    # this one is then tried again later, a bounded number of times (the runner's retry policy).
    await alerts.schedule_summary(s, rt, c, after=max(row.due_at, rt.clock.now()))
    period = Period(date.fromisoformat(row.payload["start"]), date.fromisoformat(row.payload["end"]))
    try:
        async with s.begin_nested():
            replies = await build.summary_replies(s, rt, c.id, period, scope_name=c.name,
                                                  max_charts=rt.settings.summary_max_patient_charts)
    except Exception as exc:  # logged without its text: it may quote patients' nicknames
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error("weekly summary for clinician %s could not be built: %s at %s:%s; tried again later",
                  c.id, type(exc).__name__, frame.filename.rsplit("/", 1)[-1], frame.lineno)
        return Prepared(retry=f"summary failed: {type(exc).__name__}")
    return Prepared([(c.chat_id, reply) for reply in replies])


def _notice(rt: Runtime, row: Outbox) -> Reply:
    """What a staff notice says. A red flag answered during signup also carries its tier (【至急】 for an
    emergency), when it was answered, a link to the person's chat and 「対応しました」."""
    payload = row.payload
    tier = payload.get("tier")
    key = f"staff.{payload['event']}" + ("_urgent" if tier == "emergency" else "")
    text = t(key, nickname=payload.get("nickname", ""), detail=payload.get("detail", ""))
    if not tier or row.telegram_user_id is None:
        return Reply(text)
    local = row.created_at.astimezone(rt.settings.tz)
    chat_line = _chat_line(row.telegram_user_id or 0, None)
    text = join(text, "\n".join((t(f"alert.tier.{tier}"),
                                 t("alert.answered_at", when=f"{local.month}/{local.day} {local:%H:%M}"))),
                chat_line)
    buttons = [[(t("button.acknowledge"), callbacks.Acknowledge(row.id).data)]]
    return Reply(text, buttons, priority="safety", link=(chat_line, row.telegram_user_id))


@prepares("staff_notice")
async def _staff_notice(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """Signups for the staff chat (else the admins)."""
    to = alerts.recipients(rt)
    if not to:
        log.info("staff notice %s: no STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS configured", row.payload["event"])
        return nothing(outbox.DONE)
    notice = _notice(rt, row)
    return Prepared([(chat, notice) for chat in to])


@prepares("notice_renotify")
async def _notice_renotify(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """A signup's emergency or same-day notice nobody acknowledged within ALERT_RENOTIFY_MINUTES: again, marked as
    such, to the staff chat and the admins; nothing once someone pressed 「対応しました」 (or the person was
    erased meanwhile)."""
    notice = await outbox.live_row(s, "staff_notice", telegram_user_id=row.telegram_user_id, variant=row.variant)
    if notice is None or alerts.acknowledged(notice) is not None:
        return nothing(outbox.DONE)
    to = alerts.renotify_recipients(rt)
    if not to:
        log.warning("signup notice not acknowledged; no STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS to send it again to")
        return nothing(outbox.DONE)
    first = _notice(rt, notice)
    text = join(_renotify_line(rt, notice.payload.get("tier") == "emergency"), first.text)
    return Prepared([(chat, Reply(text, first.buttons, priority="safety", link=first.link)) for chat in to])


@prepares("trial_notice")
async def _trial_notice(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    if p is None or p.status != "trial" or p.unreachable:
        return nothing()
    prompt_id = await _ask_once(s, rt, row, p, None, "trial")
    days = (p.trial_ends_on - local_date(rt.clock.now(), p.timezone)).days
    return Prepared([(p.chat_id, Reply(t("trial.notice", nickname=p.nickname, days=max(days, 0)),
                                       [[(t("button.continue"), callbacks.TrialAnswer(prompt_id, "continue").data),
                                         (t("button.end_trial"), callbacks.TrialAnswer(prompt_id, "end").data)]]))])


@prepares("trial_expire")
async def _trial_expire(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    if p is None or not await patient_state.expire(s, rt, p):
        return nothing(outbox.DONE)
    if p.unreachable:
        return nothing(outbox.DONE)
    # as the clinic's article ends: an invitation to continue at the clinic
    text = join(t("trial.ended", nickname=p.nickname), t("trial.invite", **safety.contact(rt)))
    return Prepared([(p.chat_id, Reply(text))])


@prepares("why")
async def _why(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    if not _active(p):
        return nothing()
    week = row.due_at.isocalendar().week
    await coaching.schedule_why(s, rt, p, row.due_at + timedelta(days=7))
    # after the first week's daily lessons, one of them again each week, in turn
    n = week % lessons.COUNT + 1
    text = join(t("why.weekly_intro"), t("lesson.header", n=n, title=t(f"lesson.{n}.title")), lessons.body(rt, n))
    return Prepared([(p.chat_id, Reply(text, priority="optional"))])


@prepares("outcome_round")
async def _outcome_round(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """Outcome measures every 14 days (the trial's last day: the `end` round, with PGIC); the next is planned
    first. A paused or unreachable patient skips this one (bot/coaching/outcomes.py)."""
    if not patient_state.enrolled(p) or row.local_date is None or not rt.settings.outcomes_enabled:
        return nothing()
    await outcomes.schedule_next(s, rt, p, row.local_date)
    if not _active(p):
        return nothing(outbox.DONE)
    replies = await outcomes.start_round(s, rt, p, await outcomes.occasion_of(s, p, row.local_date))
    return Prepared([(p.chat_id, r) for r in replies]) if replies else nothing(outbox.DONE)


@prepares("weekly_report")
async def _weekly_report(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """「{呼び名}さんの1週間」 on the patient's own day (coaching/progress.py); the next week's is planned first."""
    if not patient_state.enrolled(p) or row.local_date is None or not rt.settings.outcomes_enabled:
        return nothing()
    await progress.schedule_weekly(s, rt, p, row.local_date)
    if p.unreachable:
        return nothing(outbox.DONE)
    replies = await progress.weekly_report(s, rt, p, row.local_date)
    return Prepared([(p.chat_id, r) for r in replies])


@prepares("celebration")
async def _celebration(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    if not patient_state.enrolled(p) or p.unreachable or row.variant not in progress.MILESTONES:
        return nothing()
    return Prepared([(p.chat_id, progress.celebration(p, row.variant))])


@prepares("trial_report")
async def _trial_report(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """The end-of-trial report, with its buttons: an appointment at the clinic, or continuing on one's own."""
    if not patient_state.enrolled(p) or p.unreachable or not rt.settings.outcomes_enabled:
        return nothing()
    prompt_id = await _ask_once(s, rt, row, p, None, "booking")
    return Prepared([(p.chat_id, r) for r in await progress.trial_report(s, rt, p, prompt_id)])


@prepares("line_quota")
async def _line_quota(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """The clinic told how far this month's LINE pushes went (bot/line/quota.py), or which patient a safety
    message could not reach because LINE's allowance is spent."""
    to = alerts.recipients(rt)
    if not to:
        log.warning("LINE pushes: level %s; no STAFF_CHAT_ID or ADMIN_TELEGRAM_IDS to tell", row.payload["level"])
        return nothing(outbox.DONE)
    level = row.payload["level"]
    if level == "safety":
        who = await patients.by_user(s, row.telegram_user_id) if row.telegram_user_id else None
        if who is None:
            return nothing(outbox.DONE)
        text = t("line.quota.safety_not_sent", nickname=who.nickname, id=who.id)
    else:
        text = t(f"line.quota.level{level}", used=row.payload.get("used", 0),
                 cap=row.payload.get("cap") or rt.settings.line_monthly_cap)
    return Prepared([(chat, Reply(text, priority="safety")) for chat in to])


@prepares("line_paused")
async def _line_paused(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """A LINE patient told that daily messages pause until the 1st (the month's pushes near the cap)."""
    if not patient_state.enrolled(p) or p.unreachable:
        return nothing()
    return Prepared([(p.chat_id, Reply(t("line.paused", nickname=p.nickname, **safety.contact(rt)),
                                       priority="safety"))])


@prepares("reply")
async def _reply(s: AsyncSession, rt: Runtime, row: Outbox, p: Patient | None) -> Prepared:
    """A handler's answer its process did not get to send (it died after the commit): sent now, as it was."""
    if row.chat_id is None:
        return nothing(outbox.FAILED)
    return Prepared([(row.chat_id, from_payload(m)) for m in row.payload.get("messages", [])])


async def prepare(s: AsyncSession, rt: Runtime, row: Outbox) -> Prepared:
    """One due row, by its kind's preparation; too late (the catch-up policy), it is recorded as missed."""
    p = await patients.get(s, row.patient_id) if row.patient_id else None
    if too_late(row, rt.clock.now()):
        if row.kind == "reminder" and _active(p):  # the daily chain moves on
            await coaching.schedule_reminder(s, rt, p, after=rt.clock.now())
        return nothing(outbox.MISSED)
    kind = KINDS.get(row.kind)
    if kind is not None and kind.prepare is not None:
        return await kind.prepare(s, rt, row, p)
    if kind is not None and kind.prepare_batch is not None:
        return (await kind.prepare_batch(s, rt, [row]))[row.id]
    log.error("unknown outbox kind %s (row %s)", row.kind, row.id)
    return nothing(outbox.FAILED)
