"""From the database to what a clinician receives: summaries (a few set-based queries for all of a
clinician's patients), the text messages, and the charts (rendered in a worker thread, outside the event loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenPatient
from bot.coaching import questions
from bot.coaching.messages import BUTTON_LABEL_MAX, BUTTONS_MAX, Reply
from bot.i18n import t
from bot.line import quota
from bot.reports import charts, text
from bot.reports.summary import (
    DecisionRow,
    Extras,
    FlagRow,
    PatientRow,
    PatientSummary,
    Period,
    SessionRow,
    summarise,
)
from bot.runtime import Runtime
from bot.storage import outcomes as outcome_reads
from bot.storage import reports as reads
from bot.timeplan import at_local, local_date
from rules.outcomes import load_instruments

HISTORY_FOR_SILENCE = timedelta(days=14)
OPEN_FLAGS_FOR = timedelta(days=28)  # a red-flag alert older than this no longer heads the summary
log = logging.getLogger(__name__)


async def summaries(s: AsyncSession, rt: Runtime, scope: int | None, period: Period, *,
                    ids: list[int] | None = None) -> list[PatientSummary]:
    """Summaries of every enrolled patient of clinician `scope` (None: all patients) for `period`."""
    tz = rt.settings.clinic_timezone
    now = rt.clock.now()
    lo, hi = period.bounds(tz)
    reference = min(now, hi)
    patients = [PatientRow.from_tuple(r) for r in await reads.patient_rows(s, scope, ids=ids,
                                                                                 enrolled_only=ids is None)]
    if not patients:
        return []
    scope_ids = [p.id for p in patients] if ids is not None else None
    sessions = await reads.session_rows(s, scope, period.start - timedelta(days=7), period.end, ids=scope_ids)
    decisions = await reads.decision_rows(s, scope, lo, hi, ids=scope_ids)
    flags = await reads.red_flag_rows(s, scope, lo, hi, ids=scope_ids)
    missed = await reads.missed_prompts(s, scope, lo, hi, ids=scope_ids)
    last = await reads.last_answers(s, scope, reference - HISTORY_FOR_SILENCE, reference, ids=scope_ids)
    more = await extras(s, [p.id for p in patients], [p.id for p in patients if p.paused], period, hi)
    return summarise(period, patients, [SessionRow(*r) for r in sessions],
                     [DecisionRow.from_tuple(r) for r in decisions], [FlagRow.from_tuple(r) for r in flags],
                     missed, last, now=now, tz=tz, thresholds=rt.thresholds, extras=more)


async def outcome_changes(s: AsyncSession, ids: list[int]) -> dict[int, dict[str, tuple[float | None, float | None]]]:
    """Per patient and instrument: (the baseline score, the newest score)."""
    out: dict[int, dict[str, tuple[float | None, float | None]]] = {}
    for pid, rows in (await outcome_reads.scores(s, ids)).items():
        for ins in load_instruments():
            if (pair := outcome_reads.baseline_and_newest(rows, ins.id)) is not None:
                out.setdefault(pid, {})[ins.id] = pair
    return out


async def extras(s: AsyncSession, ids: list[int], paused: list[int], period: Period,
                 until: datetime) -> dict[int, Extras]:
    """What the summary needs beyond the week's rows, for all these patients at once (a query each)."""
    totals = await reads.session_totals(s, ids, period.end)
    flags = await reads.red_flag_alerts(s, ids, until - OPEN_FLAGS_FOR)
    stops = await reads.newest_stop_reasons(s, paused) if paused else {}
    questions = await reads.unanswered_question_counts(s, ids)
    outcomes = await outcome_changes(s, ids)
    return {pid: Extras(outcomes=outcomes.get(pid, {}), done_total=totals.get(pid, (0, 0))[0],
                        planned_total=totals.get(pid, (0, 0))[1], flag_alerts=flags.get(pid, (0, 0))[0],
                        flag_alerts_open=flags.get(pid, (0, 0))[1],
                        paused_severe="severe_persists" in stops.get(pid, ()), questions=questions.get(pid, 0))
            for pid in ids}


async def chart_data(s: AsyncSession, rt: Runtime, ids: list[int], end: date
                     ) -> tuple[dict[int, list[SessionRow]], dict[int, list[tuple[date, str]]]]:
    """Four weeks of sessions and level-changing decisions for these patients (two queries)."""
    tz = rt.settings.clinic_timezone
    period = Period(end - timedelta(days=charts.CHART_DAYS - 1), end)
    lo, hi = period.bounds(tz)
    sessions: dict[int, list[SessionRow]] = {i: [] for i in ids}
    for r in await reads.session_rows(s, None, period.start, period.end, ids=ids):
        sessions[r[0]].append(SessionRow(*r))
    marks: dict[int, list[tuple[date, str]]] = {i: [] for i in ids}
    for r in await reads.decision_rows(s, None, lo, hi, ids=ids):
        d = DecisionRow.from_tuple(r)
        if d.kind in charts.DECISION_STYLE:
            marks[d.patient_id].append((d.at.astimezone(ZoneInfo(tz)).date(), d.kind))
    return sessions, marks


def drawn(what: str, patient_id: int | None, draw: Callable[[], charts.Chart]) -> charts.Chart | None:
    """One chart, drawn in isolation: if drawing fails, that chart is left out and the failure logged with
    the chart's kind and the patient id only (never the exception's text: it quotes the labels, nicknames
    included). Runs in the caller's thread (a worker thread: charts are never drawn on the event loop)."""
    try:
        return draw()
    except Exception as exc:
        log.warning("report chart %s (patient %s) could not be drawn (%s); sent without it",
                    what, patient_id, type(exc).__name__)
        return None


async def patient_chart(rt: Runtime, sm: PatientSummary, end: date, rows: list[SessionRow],
                        marks: list[tuple[date, str]]) -> charts.Chart | None:
    """A patient's 4-week chart (/patient, the 詳細 button), in a worker thread; None if it could not be drawn."""
    return await asyncio.to_thread(_draw_patient, rt, sm, end, rows, marks)


def _draw_patient(rt: Runtime, sm: PatientSummary, end: date, rows: list[SessionRow],
                  marks: list[tuple[date, str]]) -> charts.Chart | None:
    return drawn("patient", sm.patient.id, partial(charts.patient_chart, sm.patient.nickname, end, rows, marks,
                                                   band_max=rt.thresholds.during_max))


def chart_reply(sm: PatientSummary, chart: charts.Chart) -> Reply:
    """A patient's chart with its caption (no button: the summary's buttons are on its last message)."""
    caption = t("report.chart_caption", mark=t(f"report.mark.{sm.tier}"), nickname=sm.patient.nickname,
                id=sm.patient.id)
    return Reply(caption, photo=chart.png)


def open_label(sm: PatientSummary) -> str:
    """A button's label opening this patient: the status mark, the nickname (shortened with … to fit) and the id,
    at most BUTTON_LABEL_MAX characters."""
    mark, pid, nickname = t(f"report.mark.{sm.tier}"), sm.patient.id, sm.patient.nickname
    label = t("button.open_patient_named", mark=mark, nickname=nickname, id=pid)
    if len(label) > BUTTON_LABEL_MAX:
        room = BUTTON_LABEL_MAX - len(t("button.open_patient_named", mark=mark, nickname="…", id=pid))
        label = t("button.open_patient_named", mark=mark, nickname=nickname[:max(room, 0)] + "…", id=pid)
    return label[:BUTTON_LABEL_MAX]


def open_buttons(listed: list[PatientSummary]) -> Reply:
    """The summary's last message: a button for each of the first BUTTONS_MAX patients in the summary's order
    (attention first), one per row; a line for those left out (/patient ID). A batch's buttons go on its last
    message only (docs/architecture.md, "The messaging port")."""
    shown = listed[:BUTTONS_MAX]
    more = t("report.open_more", n=len(listed) - len(shown)) if len(listed) > len(shown) else ""
    return Reply("\n".join(x for x in (t("report.open_patients"), more) if x),
                 [[(open_label(x), OpenPatient(x.patient.id).data)] for x in shown])


async def summary_replies(s: AsyncSession, rt: Runtime, scope: int | None, period: Period, *,
                          scope_name: str | None, max_charts: int) -> list[Reply]:
    """The text (one or more messages), the overview chart, a chart for the first `max_charts` patients
    (attention first), then a last message with the buttons opening the patients (`open_buttons`)."""
    tz = rt.settings.clinic_timezone
    found = await summaries(s, rt, scope, period)
    waiting = await unanswered_questions(s, rt, scope)  # first: patients waiting a day or more for an answer
    replies = [*waiting, *(Reply(m) for m in text.summary_messages(period, found, tz=tz, scope_name=scope_name))]
    line = await quota.figures(s, rt)
    if line is not None:  # the clinic's LINE pushes this month and where they are heading (bot/line/quota.py)
        replies.append(Reply(t("report.line_usage", **line, cap_text=t("report.line_cap", cap=line["cap"])
                               if line["cap"] else t("report.line_no_cap"),
                               per_patient=line["pushes_per_patient_month"] or "-")))
    if not found:
        return replies
    charted = found[:max_charts]
    sessions, marks = await chart_data(s, rt, [x.patient.id for x in charted], period.end)
    items = [(x, sessions[x.patient.id], marks[x.patient.id]) for x in charted]

    def render() -> tuple[charts.Chart | None, list[tuple[PatientSummary, charts.Chart | None]]]:
        overview = drawn("overview", None, partial(charts.overview_chart, found, period.start, period.end))
        return overview, [(sm, _draw_patient(rt, sm, period.end, rows, marks)) for sm, rows, marks in items]

    overview, per_patient = await asyncio.to_thread(render)
    if overview is not None:
        replies.append(Reply(overview.title, photo=overview.png))
    replies += [chart_reply(sm, chart) for sm, chart in per_patient if chart is not None]
    if len(found) > len(charted):
        replies.append(Reply(t("report.more_charts", n=len(found) - len(charted))))
    replies.append(open_buttons(text.listed_order(found)))
    return replies


async def unanswered_questions(s: AsyncSession, rt: Runtime, scope: int | None) -> list[Reply]:
    """Patients' questions unanswered for a day or more (coaching/questions.py), as one message for the top of the
    summary; none when there are none."""
    rows = await questions.unanswered(s, rt, scope)
    if not rows:
        return []
    zone = ZoneInfo(rt.settings.clinic_timezone)
    lines = [t("question.summary_line", nickname=nickname, patient_id=pid, question_id=qid, text=body[:80],
               when=f"{asked.astimezone(zone).month}/{asked.astimezone(zone).day} {asked.astimezone(zone):%H:%M}")
             for qid, pid, nickname, asked, body in rows]
    return [Reply(t("question.summary", hours=int(questions.ANSWER_WITHIN.total_seconds() // 3600), n=len(rows),
                    items="\n".join(lines)))]


def this_week(rt: Runtime) -> Period:
    return Period.week_of(local_date(rt.clock.now(), rt.settings.clinic_timezone))


def parse_week(arg: str, today: date) -> Period | None:
    """/summary argument: (none) this week; 先週 / last; 2026-W49 / W49 / 49; a date 2026-12-09 in the week."""
    value = arg.strip().upper().replace("Ｗ", "W")
    if not value or value in ("今週", "THIS"):
        return Period.week_of(today)
    if value in ("先週", "LAST"):
        return Period.week_of(today - timedelta(days=7))
    try:
        if "-W" in value:
            y, w = value.split("-W", 1)
            return Period.iso(int(y), int(w))
        if value.startswith("W") or value.isdigit():
            week = int(value.lstrip("W"))
            year = today.isocalendar().year
            return Period.iso(year, week)
        return Period.week_of(date.fromisoformat(value))
    except ValueError:
        return None


def next_summary_at(rt: Runtime, after: datetime) -> datetime:
    """The next weekly-summary time (SUMMARY_WEEKDAY at SUMMARY_TIME, clinic time zone) strictly after `after`."""
    tz = rt.settings.clinic_timezone
    day = local_date(after, tz)
    day += timedelta(days=(rt.settings.summary_weekday - day.weekday()) % 7)
    due = at_local(day, rt.settings.summary_time, tz)
    if due <= after:
        due = at_local(day + timedelta(days=7), rt.settings.summary_time, tz)
    return due
