"""Japanese text for clinicians, built from summary.PatientSummary; every phrase is in locales/ja (report.*)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.i18n import t
from bot.reports.summary import LIMITS, RATINGS, DecisionRow, PatientSummary, Period, SessionRow
from rules import ELEMENT_ORDER, Flag, load_program, load_redflags
from rules.outcomes import instrument, load_instruments

# Why a session stopped, as summaries name it (the first of these among a stop's reasons)
STOP_REASONS = ("red_flag", "severe_persists", "severe_before_twice", "severe_before", "severe_pain")

REST_PER_BLOCK = 30  # one-line patients kept together, at most this many per block
MAX_MESSAGE = 3900  # Telegram allows 4096 characters; split between patients below that


def day_label(day: date) -> str:
    weekdays = t("report.weekdays").split(",")
    return f"{day.month}/{day.day}({weekdays[day.weekday()]})"


def short_day(day: date) -> str:
    return f"{day.month}/{day.day}"


def number(value: float | None) -> str:
    return t("report.no_data") if value is None else f"{value:.1f}"


def change(value: float | None) -> str:
    if value is None:
        return t("report.no_data")
    if value == 0:
        return "±0"
    return f"+{value:.1f}" if value > 0 else f"−{abs(value):.1f}"


def levels_line(condition: str, levels: dict[str, int]) -> str:
    """Compact current levels, element names as the bot names them: 可動域 2/4・回数 1/5・…"""
    program = load_program(condition)
    maxima = program.max_levels
    return "・".join(f"{program.element_name(e)} {levels[str(e)]}/{maxima[e]}" for e in program.elements)


def levels_full(condition: str, levels: dict[str, int]) -> list[str]:
    """The prescription at these levels, exactly as the patient reads it."""
    program = load_program(condition)
    return program.describe({e: levels[str(e)] for e in ELEMENT_ORDER})


def decision_label(d: DecisionRow, condition: str) -> str:
    program = load_program(condition)
    element = program.element_name(d.element) if d.element else ""
    match d.kind:
        case "raise":
            return t("report.decision.raise", element=element)
        case "step_back":
            return t("report.decision.step_back", element=element)
        case "stop":
            reason = next((r for r in d.reasons if r in STOP_REASONS), "severe_pain")
            return t("report.decision.stop", reason=t(f"report.stop.{reason}"))
    return t("report.decision.hold", reason=t(f"report.hold.{d.message.rsplit('.', 1)[-1]}"))


def attention_reasons(s: PatientSummary) -> str:
    parts = []
    for reason in s.attention:
        if reason == "red_flag" and s.urgent:
            parts.append(t("report.reason.red_flag_urgent"))
        elif reason == "no_answer":
            parts.append(t("report.reason.no_answer", days=s.days_without_answer))
        elif reason == "question":
            parts.append(t("report.reason.question", n=s.extras.questions))
        elif reason == "adherence":
            parts.append(t("report.reason.adherence", before=s.prev_done, now=s.done))
        else:
            parts.append(t(f"report.reason.{reason}"))
    return "、".join(parts)


def fall_risk_line(falls_last_year: bool, unsteady: bool) -> str:
    """The fall-risk flag as the clinician reads it (empty when not at risk): which answer, and what it changes."""
    which = [t(f"signup.fall_risk.{k}") for k, yes in (("falls", falls_last_year), ("unsteady", unsteady)) if yes]
    return t("report.fall_risk", which="・".join(which)) if which else ""


def patient_block(s: PatientSummary, tz: str) -> str:
    p = s.patient
    lines = [t("report.patient.head", tier=t(f"report.tier.{s.tier}"), nickname=p.nickname, id=p.id,
               condition=t(f"condition.{p.condition}"), status=t(f"report.status.{p.status}"))]
    if risk := fall_risk_line(p.falls_last_year, p.unsteady):
        lines.append(t("report.patient.fall_risk", risk=risk))
    if s.attention:
        lines.append(t("report.attention", reasons=attention_reasons(s)))
    lines.append(t("report.adherence", done=s.done, planned=s.planned, done14=s.done_14,
                   mark=t("report.target.met" if s.met_target else "report.target.missed")))
    lines += [since_start(s), outcomes_line(s), eased_line(s)]
    lines.append(t("report.ratings"))
    for name in RATINGS:
        r = s.ratings[name]
        worst = t("report.no_data") if r.worst is None else str(r.worst)
        lines.append(t("report.rating", label=t(f"rating.{name}"), mean=number(r.mean), worst=worst,
                       change=change(r.change)))
    if s.limit_sessions:
        which = "、".join(t("report.limit.count", limit=t(f"report.limit.{k}"), n=s.limits[k])
                         for k in LIMITS if s.limits[k])
        lines.append(t("report.limits", n=s.limit_sessions, which=which))
    else:
        lines.append(t("report.limits_none"))
    if s.decisions:
        zone = ZoneInfo(tz)
        items = "、".join(f"{short_day(d.at.astimezone(zone).date())} {decision_label(d, p.condition)}"
                          for d in s.decisions)
        lines.append(t("report.decisions", items=items))
    else:
        lines.append(t("report.decisions_none"))
    if s.red_flags:
        zone = ZoneInfo(tz)
        items = "、".join(f"{short_day(f.at.astimezone(zone).date())} "
                          + "・".join(t(f"flag.{x}") for x in f.flags) for f in s.red_flags)
        lines.append(t("report.red_flags", items=items))
    if s.missed_prompts:
        lines.append(t("report.missed", n=s.missed_prompts))
    lines.append(t("report.levels", levels=levels_line(p.condition, p.levels)) + raised_this_week(s))
    return "\n".join(line for line in lines if line)


def since_start(s: PatientSummary) -> str:
    if not s.extras.planned_total:
        return ""
    left = "" if s.trial_days_left is None else t("report.trial_left", days=s.trial_days_left)
    return t("report.since_start", done=s.extras.done_total, planned=s.extras.planned_total, left=left)


def outcome_value(value: float | None) -> str:
    return t("report.no_data") if value is None else f"{value:g}"


def outcomes_line(s: PatientSummary) -> str:
    """Baseline -> now of each outcome measure with the change and whether it passes the MCID (「✔MCID」)."""
    parts = []
    for ins in load_instruments():
        if ins.id not in s.extras.outcomes:
            continue
        base, now = s.extras.outcomes[ins.id]
        if ins.mcid.responders:  # a measure of change itself (PGIC): its answer
            mark = t("report.outcome.mcid") if ins.responder(now) else ""
            parts.append(f"{ins.short} {ins.items[0].label_of(int(now)) if now is not None else '-'}{mark}")
            continue
        delta = ins.change(base, now)
        if delta is None:  # only one of them so far (the baseline, usually)
            parts.append(t("report.outcome.only", name=ins.short, value=outcome_value(base if now is None else now)))
            continue
        mark = t("report.outcome.mcid") if delta.important else ""
        parts.append(t("report.outcome.change", name=ins.short, baseline=outcome_value(base), now=outcome_value(now),
                       points=change(delta.points), mark=mark))
    return t("report.outcomes", items="／".join(parts)) if parts else ""


def eased_line(s: PatientSummary) -> str:
    """運動前後の痛みの変化 (before - after, averaged): positive means pain eased after exercise."""
    if s.eased is None:
        return ""
    return t("report.eased", value=change(s.eased), n=s.eased_n)


def raised_this_week(s: PatientSummary) -> str:
    program = load_program(s.patient.condition)
    raised = [program.element_name(d.element) for d in s.decisions if d.kind == "raise" and d.element]
    return t("report.raised", elements="・".join(raised)) if raised else ""


def heading(period: Period, summaries: list[PatientSummary], scope_name: str | None) -> str:
    counts = {tier: sum(s.tier == tier for s in summaries) for tier in ("attention", "watch", "good")}
    scope = t("report.scope.clinician", name=scope_name) if scope_name else t("report.scope.all")
    return t("report.heading", start=day_label(period.start), end=day_label(period.end), scope=scope,
             n=len(summaries), attention=counts["attention"], watch=counts["watch"], good=counts["good"])


def attention_and_rest(summaries: list[PatientSummary]) -> tuple[list[PatientSummary], list[PatientSummary]]:
    """The summary's two parts: the patients needing attention (a block each), then the others (a line each)."""
    return [s for s in summaries if s.attention], [s for s in summaries if not s.attention]


def listed_order(summaries: list[PatientSummary]) -> list[PatientSummary]:
    """The patients in the order the summary lists them."""
    need, rest = attention_and_rest(summaries)
    return need + rest


def summary_messages(period: Period, summaries: list[PatientSummary], *, tz: str,
                     scope_name: str | None) -> list[str]:
    """The whole summary as Telegram messages: the heading, then one block per patient (attention first),
    split between patients so no message is too long."""
    blocks = [heading(period, summaries, scope_name)]
    need, rest = attention_and_rest(summaries)
    blocks += [patient_block(s, tz) for s in need] if summaries else [t("report.none")]
    if rest:  # the others one line each (their detail: /patient ID)
        lines = [rest_line(s) for s in rest]
        blocks.append("\n".join([t("report.rest", n=len(rest)), *lines[:REST_PER_BLOCK]]))
        blocks += ["\n".join(lines[i:i + REST_PER_BLOCK]) for i in range(REST_PER_BLOCK, len(lines), REST_PER_BLOCK)]
    blocks.append(t("report.footer"))
    messages: list[str] = []
    current = ""
    for block in blocks:
        if current and len(current) + 2 + len(block) > MAX_MESSAGE:
            messages.append(current)
            current = ""
        current = f"{current}\n\n{block}" if current else block
    if current:
        messages.append(current)
    return messages


def list_line(s: PatientSummary) -> str:
    p = s.patient
    during = s.ratings["during"]
    return t("report.list.line", mark=t(f"report.mark.{s.tier}"), id=p.id, nickname=p.nickname,
             status=t(f"report.status.{p.status}"), done=s.done, planned=s.planned, during=number(during.mean),
             reasons=f"（{attention_reasons(s)}）" if s.attention else "")


def rest_line(s: PatientSummary) -> str:
    """A patient who needs no attention, in the summary: the list line and the pain measure's baseline -> now."""
    base, now = s.extras.outcomes.get("pain_week", (None, None))
    pain = instrument("pain_week")
    delta = pain.change(base, now) if pain is not None else None
    if delta is None:
        return list_line(s)
    mark = t("report.outcome.mcid") if delta.important else ""
    return list_line(s) + t("report.rest_pain", baseline=outcome_value(base), now=outcome_value(now), mark=mark)


def patients_list(summaries: list[PatientSummary], period: Period) -> str:
    if not summaries:
        return t("report.list.empty")
    lines = [t("report.list.head", start=day_label(period.start), end=day_label(period.end), n=len(summaries))]
    lines += [list_line(s) for s in summaries]
    lines.append(t("report.list.footer"))
    return "\n".join(lines)


def session_line(r: SessionRow) -> str:
    def v(x: int | None) -> str:
        return "-" if x is None else str(x)

    return t("report.detail.session", day=day_label(r.day), status=t(f"report.session.{r.status}"),
             before=v(r.before), during=v(r.during), after=v(r.after), morning=v(r.next_morning))


def patient_detail(s: PatientSummary, recent: list[SessionRow], *, tz: str, clinician_name: str | None,
                   trial_ends_on: date | None, enrolled_at: datetime) -> str:
    p = s.patient
    zone = ZoneInfo(tz)
    head = t("report.detail.head", nickname=p.nickname, id=p.id, condition=t(f"condition.{p.condition}"),
             status=t(f"report.status.{p.status}"), enrolled=short_day(enrolled_at.astimezone(zone).date()),
             trial_end=short_day(trial_ends_on) if trial_ends_on else t("report.no_data"),
             clinician=clinician_name or t("report.unassigned"),
             paused=t("report.detail.paused") if p.paused else "")
    dose = "\n".join(f"　{line}" for line in levels_full(p.condition, p.levels))
    sessions = "\n".join(session_line(r) for r in recent) or t("report.detail.no_sessions")
    return "\n\n".join([head, t("report.detail.this_week"), patient_block(s, tz),
                        t("report.detail.dose", dose=dose), t("report.detail.sessions", sessions=sessions)])


def alert_flags(flags: list[str]) -> str:
    """Today's check-in flags by their button text; catalogue items (the signup screen) by their label."""
    def name(f: str) -> str:
        return t(f"flag.{f}") if f in Flag.__members__.values() else load_redflags()[f].label
    return t("alert.flags", flags="・".join(name(f) for f in flags)) if flags else ""

