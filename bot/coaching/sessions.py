"""The daily loop, between a handler (or a delivery) and the database.

An answer is recorded -> `rules.decide()` -> the decision is recorded and applied (levels, session state)
-> what comes next is scheduled as due rows -> a Reply is returned for the caller to send.
Nothing here talks to Telegram.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts
from bot.callbacks import AskNow, rating_buttons
from bot.coaching import safety
from bot.coaching.messages import Reply, join
from bot.coaching.patients import pause
from bot.coaching.schedule import REMINDER_KINDS
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import outbox, patients, sessions
from bot.storage.models import ExerciseSession, Patient, Prompt
from bot.timeplan import at_local, local_date
from rules import URGENT_FLAGS, Action, Case, Element, Flag, SessionRecord, Stage, decide, load_program
from rules import Decision as RulesDecision

# --- what the patient is asked to do -------------------------------------------------------------

def plan_lines(p: Patient) -> str:
    """Today's exercises and the prescription at the current levels, from the rules' program data."""
    program = load_program(p.condition)
    exercises = "\n".join(t("plan.exercise", name=ex.name, how=ex.how) for ex in program.exercises)
    dose = "\n".join(f"　{line}" for line in program.describe(patients.levels(p)))
    return t("plan.body", exercises=exercises, dose=dose)


def element_text(p: Patient, element: Element | None, levels: dict[Element, int]) -> dict[str, str]:
    if element is None:
        return {"element": "", "level_text": ""}
    program = load_program(p.condition)
    return {"element": program.element_name(element), "level_text": program.describe_level(element, levels[element])}


# --- a session ------------------------------------------------------------------------------------

async def session_for_today(s: AsyncSession, rt: Runtime, p: Patient) -> ExerciseSession:
    now = rt.clock.now()
    day = local_date(now, p.timezone)
    return await sessions.get_or_create(s, p.id, day, at_local(day, p.exercise_time, p.timezone),
                                        {str(k): v for k, v in patients.levels(p).items()})


async def ask(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession | None, kind: str,
              text_key: str, **params: object) -> Reply:
    """Put a rating question (0-10 buttons) and record it. A half-finished /settings input is dropped,
    so the typed answer goes to this question."""
    p.awaiting = None
    prompt = await sessions.ask(s, patient_id=p.id, kind=kind, now=rt.clock.now(),
                                session_id=session.id if session else None)
    return Reply(t(text_key, **params), rating_buttons(prompt.id))


async def start_session(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession) -> Reply:
    if session.status in ("started", "done", "stopped"):
        return Reply(t("session.already_started"))
    session.status, session.started_at = "started", rt.clock.now()
    session.levels = {str(k): v for k, v in patients.levels(p).items()}
    await outbox.cancel(s, patient_id=p.id, kinds=REMINDER_KINDS, session_id=session.id)
    await sessions.close_open(s, patient_id=p.id, session_id=session.id, kinds=("reminder",))
    return await ask(s, rt, p, session, "before", "ask.before")


async def snooze(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession) -> Reply:
    now = rt.clock.now()
    await outbox.cancel(s, patient_id=p.id, kinds=("reminder_repeat", "reminder_expire"), session_id=session.id)
    due = now + timedelta(minutes=rt.settings.snooze_minutes)
    await outbox.schedule(s, kind="reminder_repeat", due_at=due, now=now, patient_id=p.id, chat_id=p.chat_id,
                          session_id=session.id, variant=f"snooze{int(now.timestamp())}",
                          payload={"snooze": True})
    return Reply(t("reminder.snoozed", minutes=rt.settings.snooze_minutes))


async def skip(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession) -> Reply:
    session.status = "skipped"
    await outbox.cancel(s, patient_id=p.id, kinds=REMINDER_KINDS, session_id=session.id)
    return Reply(t("reminder.skipped"))


async def ask_now(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession, which: str) -> Reply:
    """The patient tapped "ask me now" for the during or after rating."""
    if session.status != "started" or getattr(session, which) is not None:
        return Reply(t("common.closed"))
    if await sessions.has_open(s, session.id, which):
        await sessions.close_open(s, patient_id=p.id, session_id=session.id, kinds=(which,))
    await outbox.cancel(s, patient_id=p.id, kinds=(f"{which}_prompt",), session_id=session.id)
    return await ask(s, rt, p, session, which, f"ask.{which}")


# --- answers ---------------------------------------------------------------------------------------

def _records(rows: list[ExerciseSession], current: ExerciseSession | None) -> tuple[SessionRecord, ...]:
    kept = [r for r in rows if r.status in ("started", "done", "stopped") and (current is None or r.id != current.id)
            and (current is None or r.local_date <= current.local_date)]
    if current is not None:
        kept.append(current)
    return tuple(
        SessionRecord(date=r.local_date, before=r.before, during=r.during, after=r.after,
                      next_morning=r.next_morning, recheck=r.recheck,
                      flags=frozenset(Flag(f) for f in r.flags),
                      level_change=Action(r.level_change) if r.level_change else None)
        for r in kept
    )


async def _decide(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession | None, stage: Stage,
                  flags: frozenset[Flag] = frozenset()) -> RulesDecision:
    today = local_date(rt.clock.now(), p.timezone)
    rows = await sessions.recent(s, p.id, until=today, days=rt.thresholds.history_days)
    program = load_program(p.condition)
    case = Case(today=today, stage=stage, levels=patients.levels(p), max_levels=program.max_levels,
                raise_history=tuple(Element(e) for e in p.raise_history), sessions=_records(rows, session),
                flags=flags)
    return decide(case, rt.thresholds)


async def _apply(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession | None, stage: Stage,
                 d: RulesDecision) -> None:
    now = rt.clock.now()
    before = {str(k): v for k, v in patients.levels(p).items()}
    if d.action in (Action.PROGRESS, Action.STEP_BACK):
        patients.set_levels(p, dict(d.levels), tuple(d.raise_history))
        if session is not None:
            session.level_change = str(d.action)
    if d.action is Action.STOP and session is not None:
        session.status = "stopped"
        await outbox.cancel(s, patient_id=p.id, session_id=session.id)
        await sessions.close_open(s, patient_id=p.id, session_id=session.id)
    sessions.record_decision(
        s, patient_id=p.id, session_id=session.id if session else None, stage=str(stage), action=str(d.action),
        element=str(d.element) if d.element else None, reasons=list(d.reasons), message=d.message,
        urgent=d.urgent, levels_before=before, levels_after={str(k): v for k, v in patients.levels(p).items()},
        created_at=now,
    )
    if d.alert:
        await alerts.schedule(s, rt, p, event=alerts.event_of(d), urgent=d.urgent,
                              session_id=session.id if session else None)
    if d.recheck and session is not None:
        base = session.started_at or session.planned_at
        due = max(base + timedelta(hours=24), now + timedelta(minutes=1))
        await outbox.schedule(s, kind="recheck", due_at=due, now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id)


def decision_text(rt: Runtime, p: Patient, d: RulesDecision) -> str:
    params = element_text(p, d.element, dict(d.levels))
    missing = "、".join(t(f"rating.{m}") for m in d.missing)
    return t(d.message, missing=missing, limit=d.limit, **params, **safety.contact(rt))


async def answer_rating(s: AsyncSession, rt: Runtime, p: Patient, prompt: Prompt, value: int) -> Reply:
    """Store one 0-10 answer, decide, apply, schedule the next question; return what to say."""
    now = rt.clock.now()
    session = await sessions.get(s, prompt.session_id) if prompt.session_id else None
    if session is None:
        return Reply(t("common.closed"))
    kind = prompt.kind
    setattr(session, kind, value)
    stage = Stage(kind)
    d = await _decide(s, rt, p, session, stage)
    await _apply(s, rt, p, session, stage, d)
    text = decision_text(rt, p, d)
    if d.action is Action.STOP:
        return Reply(text)
    if kind == "before":
        await outbox.schedule(s, kind="during_prompt", now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id,
                              due_at=now + timedelta(minutes=rt.settings.during_prompt_after_minutes))
        return Reply(join(text, plan_lines(p), t("session.tap_after_first")),
                     [[(t("button.first_done"), AskNow(session.id, "during").data)]])
    if kind == "during":
        await outbox.schedule(s, kind="after_prompt", now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id,
                              due_at=(session.started_at or now)
                              + timedelta(minutes=rt.settings.after_prompt_after_minutes))
        return Reply(join(text, t("session.tap_when_done")),
                     [[(t("button.all_done"), AskNow(session.id, "after").data)]])
    if kind == "after":
        session.status = "done"
        await outbox.cancel(s, patient_id=p.id, kinds=("after_prompt", "during_prompt"), session_id=session.id)
        morning_day = session.local_date + timedelta(days=1)
        await outbox.schedule(s, kind="morning_prompt", now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id,
                              due_at=at_local(morning_day, p.morning_time, p.timezone))
        return Reply(join(text, t("session.see_you_morning", time=p.morning_time)))
    # next_morning / recheck: the session's verdict
    if d.recheck:
        return Reply(text)
    return Reply(join(text, t("session.next_plan"), plan_lines(p)))


async def report_red_flags(s: AsyncSession, rt: Runtime, p: Patient, flags: frozenset[Flag], source: str) -> Reply:
    """A red flag stops exercise: record it, pause reminders, alert clinicians, tell the patient what to do."""
    now = rt.clock.now()
    today = local_date(now, p.timezone)
    session = await sessions.on_date(s, p.id, today)
    if session is None or session.status not in ("started", "planned"):
        yesterday = await sessions.on_date(s, p.id, today - timedelta(days=1))
        session = yesterday if yesterday is not None and yesterday.status == "done" else session
    if session is not None:
        session.flags = sorted(set(session.flags) | {str(f) for f in flags})
    urgent = bool(flags & URGENT_FLAGS)
    sessions.record_red_flags(s, patient_id=p.id, telegram_user_id=p.telegram_user_id, source=source,
                              flags=sorted(str(f) for f in flags), urgent=urgent, created_at=now)
    d = await _decide(s, rt, p, session, Stage.CHECKIN, flags)
    await _apply(s, rt, p, session, Stage.CHECKIN, d)
    await pause(s, rt, p)
    informed = safety.informed_line(rt, await alerts.reaches_someone(s, rt, p))
    return Reply(join(decision_text(rt, p, d), informed, t("redflag.paused")), priority="safety")
