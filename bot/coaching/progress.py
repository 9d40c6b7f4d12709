"""The patient sees their progress (issue 10 §5): 「{呼び名}さんの1週間」 on their own day each week, small
celebrations at real milestones (each once), and the end-of-trial report with its buttons (an appointment at
the clinic, or continuing on one's own). Never blame: the words are chosen by what went well.

Rows (delivery/registry.py): `weekly_report` [patient, local_date] on the weekday the patient enrolled, at
WEEKLY_AT; `celebration` [patient, variant = the milestone]; `trial_report` [patient, local_date = the trial's
last day] at REPORT_AT, after the end round of the outcome measures. All are planned at signup when
OUTCOMES_ENABLED (docs/outcomes.md) is on.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts
from bot.callbacks import Booking, BookingChoice
from bot.channels import channel_of
from bot.coaching.messages import Reply
from bot.coaching.plan import levels_of, program_of
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import outbox, sessions
from bot.storage import outcomes as outcome_reads
from bot.storage import reports as reads
from bot.storage.models import Patient
from bot.timeplan import at_local, local_date
from rules import Element, Program
from rules.outcomes import load_instruments
from rules.programs import Change

WEEKLY_AT = "19:00"
REPORT_AT = "19:30"
TEN = 10
MILESTONES = ("first_week", "first_raise", "ten_sessions")
STREAK = 3  # days in a row worth saying so
CHEERS = ("progress.cheer.rest", "progress.cheer.hard_week", "progress.cheer.back", "progress.cheer.streak",
          "progress.cheer.steady")  # encouragement(): one of these each week
TIMES: tuple[BookingChoice, ...] = ("am", "pm", "sat", "any")


async def begin(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """At signup: the first weekly report and the end-of-trial report."""
    if not rt.settings.outcomes_enabled:
        return
    await schedule_weekly(s, rt, p, local_date(rt.clock.now(), p.timezone))
    await outbox.schedule(s, kind="trial_report", now=rt.clock.now(), chat_id=p.chat_id, patient_id=p.id,
                          local_date=p.trial_ends_on, due_at=at_local(p.trial_ends_on, REPORT_AT, p.timezone))


async def schedule_weekly(s: AsyncSession, rt: Runtime, p: Patient, after: date) -> None:
    day = after + timedelta(days=7)
    await outbox.schedule(s, kind="weekly_report", now=rt.clock.now(), chat_id=p.chat_id, patient_id=p.id,
                          local_date=day, due_at=at_local(day, WEEKLY_AT, p.timezone))


def longest_streak(days: list[date]) -> int:
    """The most days in a row among these (done) days."""
    best = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and (day - previous).days == 1 else 1
        best, previous = max(best, run), day
    return best


def encouragement(*, done: int, back: bool, streak: int, hard: bool) -> str:
    """One line chosen by what happened (a message key): a week of rest, a hard week handled well, a return
    after a gap (`back`: nothing done the week before, something earlier), a streak, or steady work. Never blame."""
    if done == 0:
        return "progress.cheer.rest"
    if hard:
        return "progress.cheer.hard_week"
    if back:
        return "progress.cheer.back"
    if streak >= STREAK:
        return "progress.cheer.streak"
    return "progress.cheer.steady"


async def weekly_report(s: AsyncSession, rt: Runtime, p: Patient, day: date) -> list[Reply]:
    """「{呼び名}さんの1週間」: the 7 days before `day`: sessions done, what went up, pain before and right after
    (a small chart), one line of encouragement."""
    from bot.reports import charts  # matplotlib at the first chart only

    first, last = day - timedelta(days=7), day - timedelta(days=1)
    rows = await week_rows(s, p.id, local_date(p.enrolled_at, p.timezone), last)
    week = [r for r in rows if r.day >= first]
    done = [r for r in week if r.status == "done"]
    gap_from = first - timedelta(days=7)
    back = not any(r.status == "done" and gap_from <= r.day < first for r in rows) and any(
        r.status == "done" and r.day < gap_from for r in rows)
    lo, hi = at_local(first, "00:00", p.timezone), at_local(day, "00:00", p.timezone)
    raised = await reads.raises(s, p.id, lo, hi)
    hard = any(r.status == "stopped" for r in week) or await reads.stepped_back(s, p.id, lo, hi)
    lines = [t("progress.week.head", nickname=p.nickname, start=f"{first.month}/{first.day}",
               end=f"{last.month}/{last.day}"),
             t("progress.week.done", done=len(done), planned=len(week))]
    program = program_of(p)
    for before, after in raised:  # one line a raise, however many exercises share its element
        lines += raised_lines(program, list(program.changes(_elements(before), _elements(after))))
    pairs = [(r.before, r.after) for r in done if r.before is not None and r.after is not None]
    if pairs:
        lines.append(t("progress.week.pain", before=_mean([b for b, _ in pairs]), after=_mean([a for _, a in pairs])))
    streak = longest_streak([r.day for r in done])
    lines.append(t(encouragement(done=len(done), back=back, streak=streak, hard=hard), n=streak))
    chart = charts.progress_chart(t("progress.week.chart", nickname=p.nickname), first, last, week)
    await milestones(s, rt, p, week_done=bool(done))  # the first week with sessions done: celebrated once
    return [Reply("\n".join(lines)), Reply(t("progress.week.chart_caption"), photo=chart.png, priority="optional")]


def _elements(levels: dict[str, int]) -> dict[Element, int]:
    return {e: int(levels.get(str(e), 1)) for e in Element}


def raised_lines(program: Program, changes: list[Change]) -> list[str]:
    """What one raise changed, short for a phone: before -> after when every exercise it touched changed alike
    (「すべての運動」 when that is all of them); else one line naming the element and the exercises (each has its
    own ladder: the plan card shows today's dose)."""
    if len({(c.name, c.before, c.after) for c in changes}) > 1:
        return [t("progress.week.raised_many", element=changes[0].name,
                  exercises="・".join(dict.fromkeys(c.exercise.name for c in changes)))]
    groups: dict[tuple[str, str, str], list[str]] = {}
    for c in changes:
        groups.setdefault((c.name, c.before, c.after), []).append(c.exercise.name)
    everything = len(program.exercises)
    return [t("progress.week.raised", element=name, before=before, after=after,
              exercises=t("progress.week.all_exercises") if len(names) == everything and everything > 1
              else "・".join(names))
            for (name, before, after), names in groups.items()]


def _mean(values: list[int]) -> str:
    return f"{sum(values) / len(values):.1f}"


async def week_rows(s: AsyncSession, patient_id: int, first: date, last: date) -> list:
    from bot.reports.summary import SessionRow

    return [SessionRow(*r) for r in await reads.session_rows(s, None, first, last, ids=[patient_id])]


async def milestones(s: AsyncSession, rt: Runtime, p: Patient, *, week_done: bool = False) -> None:
    """Celebrate what was just reached, once each: the first week with sessions done (`week_done`, from the
    weekly report), the first raise, ten sessions. Each becomes a `celebration` row."""
    if not rt.settings.outcomes_enabled:
        return
    reached = []
    if week_done:
        reached.append("first_week")
    if "first_raise" not in p.milestones and await reads.raised_ever(s, p.id):
        reached.append("first_raise")
    if "ten_sessions" not in p.milestones and await reads.done_count(s, p.id) >= TEN:
        reached.append("ten_sessions")
    now = rt.clock.now()
    for m in reached:
        if m not in p.milestones:
            p.milestones = [*p.milestones, m]
            await outbox.schedule(s, kind="celebration", now=now, due_at=now, chat_id=p.chat_id, patient_id=p.id,
                                  variant=m)


def celebration(p: Patient, milestone: str) -> Reply:
    return Reply(t(f"progress.milestone.{milestone}", nickname=p.nickname, n=TEN), priority="optional")


async def trial_report(s: AsyncSession, rt: Runtime, p: Patient, prompt_id: int) -> list[Reply]:
    """The end-of-trial report: baseline -> end for each measure, sessions, levels reached (text and a picture),
    and the buttons: an appointment at the clinic, or continuing on one's own."""
    from bot.coaching import outcomes
    from bot.reports import charts

    first = local_date(p.enrolled_at, p.timezone)
    rows = await week_rows(s, p.id, first, p.trial_ends_on)
    done = sum(r.status == "done" for r in rows)
    levels = "\n".join(program_of(p).describe(levels_of(p)))  # one line per exercise, today's dose
    scores = (await outcome_reads.scores(s, [p.id]))[p.id]
    measures = []
    for ins in load_instruments():
        pair = outcome_reads.baseline_and_newest(scores, ins.id)
        if pair is None:
            continue
        base, now = pair
        change = ins.change(base, now)
        value = outcomes.change_text(ins, change) if change is not None and not ins.mcid.responders else \
            outcomes.score_text(ins, now if now is not None else base)
        measures.append(t("outcome.result_line", title=ins.title, value=value))
    text = "\n".join([t("progress.trial.head", nickname=p.nickname, start=f"{first.month}/{first.day}",
                        end=f"{p.trial_ends_on.month}/{p.trial_ends_on.day}"),
                      t("progress.trial.sessions", done=done, days=len(rows)),
                      t("progress.trial.levels", levels=levels),
                      *([t("progress.trial.measures"), *measures] if measures else []),
                      t("progress.trial.next")])
    chart = charts.progress_chart(t("progress.trial.chart", nickname=p.nickname), first, p.trial_ends_on, rows,
                                  tuple(m.lstrip("・") for m in measures))
    buttons = [[(t("button.booking"), Booking(prompt_id, "book").data)],
               [(t("button.on_my_own"), Booking(prompt_id, "self").data)]]
    return [Reply(t("progress.trial.chart_caption"), photo=chart.png), Reply(text, buttons)]


async def booking(s: AsyncSession, rt: Runtime, p: Patient, press: Booking) -> Reply | None:
    """The report's buttons: `book` asks when suits; a time sends the staff a notice with the patient's contact
    and preferred time; `self` wishes them well. None when the question is no longer open."""
    prompt = await sessions.take_answer(s, press.prompt_id, p.id, press.choice, rt.clock.now(), kinds=press.kinds)
    if prompt is None:
        return None
    if press.choice == "self":
        return Reply(t("progress.booking.self", nickname=p.nickname))
    if press.choice == "book":
        ask = await sessions.ask(s, patient_id=p.id, kind="booking_time", now=rt.clock.now())
        return Reply(t("progress.booking.when"), [[(t(f"booking.time.{x}"), Booking(ask.id, x).data)] for x in TIMES])
    contact = p.contact or t("progress.booking.no_contact", app=t(f"channel.{channel_of(p.telegram_user_id)}"))
    await alerts.staff_notice(s, rt, event="booking", telegram_user_id=p.telegram_user_id, nickname=p.nickname,
                              detail=t("staff.booking_detail", id=p.id, time=t(f"booking.time.{press.choice}"),
                                       contact=contact))
    return Reply(t("progress.booking.sent", nickname=p.nickname, time=t(f"booking.time.{press.choice}")))
