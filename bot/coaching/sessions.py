"""The daily loop, between a handler (or a delivery) and the database.

An answer is recorded -> `rules.decide()` -> the decision is recorded and applied (levels, session state)
-> what comes next is scheduled as due rows -> a Reply is returned for the caller to send.
Nothing here talks to Telegram.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts
from bot.callbacks import AskNow, rating_buttons
from bot.coaching import safety
from bot.coaching.messages import Reply, join
from bot.coaching.patients import active, pause, thresholds_for
from bot.coaching.plan import levels_of, plan_buttons, plan_lines, program_of
from bot.coaching.schedule import REMINDER_KINDS
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import outbox, patients, sessions
from bot.storage.models import ExerciseSession, Patient, Prompt
from bot.timeplan import at_local, local_date
from rules import URGENT_FLAGS, Action, Case, Element, Flag, SessionRecord, Stage, decide
from rules import Decision as RulesDecision
from rules.engine import trend_windows
from rules.types import RATINGS

# --- what the patient is asked to do -------------------------------------------------------------

def change_lines(p: Patient, before: dict[Element, int], after: dict[Element, int]) -> str:
    """What a level change changed, one line per exercise: 「・いすからの立ち上がり：回数 8回 → 10回」."""
    return "\n".join(t("decision.change", exercise=c.exercise.name, element=c.name, before=c.before, after=c.after)
                     for c in program_of(p).changes(before, after))


def element_text(p: Patient, d: RulesDecision, before: dict[Element, int]) -> dict[str, str]:
    """The decision's element and what it changed in which exercise (empty when no level changed)."""
    if d.element is None:
        return {"element": "", "changes": ""}
    return {"element": program_of(p).element_name(d.element), "changes": change_lines(p, before, dict(d.levels))}


# --- a session ------------------------------------------------------------------------------------

async def session_for_today(s: AsyncSession, rt: Runtime, p: Patient) -> ExerciseSession:
    now = rt.clock.now()
    day = local_date(now, p.timezone)
    return await sessions.get_or_create(s, p.id, day, at_local(day, p.exercise_time, p.timezone),
                                        {str(k): v for k, v in levels_of(p).items()})


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
    session.levels = {str(k): v for k, v in levels_of(p).items()}
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
    """The patient tapped "ask me now" for the during or after rating (a button left on screen after a pause or
    the end asks nothing)."""
    if not active(p) or session.status != "started" or getattr(session, which) is not None:
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
                  flags: frozenset[Flag] = frozenset()) -> tuple[Case, RulesDecision]:
    today = local_date(rt.clock.now(), p.timezone)
    rows = await sessions.recent(s, p.id, until=today, days=rt.thresholds.history_days)
    case = Case(today=today, stage=stage, levels=levels_of(p), max_levels=program_of(p).max_levels,
                raise_history=tuple(Element(e) for e in p.raise_history), sessions=_records(rows, session),
                flags=flags, usual_pain=p.usual_pain, minimum_alerted=await sessions.minimum_alerted(s, p.id),
                ceiling=p.ceiling, progression_held=p.progression_held)  # the clinician's (patient card)
    return case, decide(case, thresholds_for(rt, p))


async def _apply(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession | None, stage: Stage,
                 d: RulesDecision) -> None:
    now = rt.clock.now()
    before = {str(k): v for k, v in levels_of(p).items()}
    if d.element is not None:  # a raise, a step back, or a severe-pain stop that steps back
        patients.set_levels(p, dict(d.levels), tuple(d.raise_history))
        if session is not None:
            session.level_change = str(Action.PROGRESS if d.action is Action.PROGRESS else Action.STEP_BACK)
    if d.action is Action.STOP and session is not None:
        if session.status in ("planned", "started"):  # today's session stops; a past one keeps its status
            session.status = "stopped"
        await outbox.cancel(s, patient_id=p.id, session_id=session.id)
        await sessions.close_open(s, patient_id=p.id, session_id=session.id)
    if d.pause:  # severe pain stayed high: no reminders until the clinic says the program can go on
        await pause(s, rt, p)
    sessions.record_decision(
        s, patient_id=p.id, session_id=session.id if session else None, stage=str(stage), action=str(d.action),
        element=str(d.element) if d.element else None, reasons=list(d.reasons), message=d.message,
        urgent=d.urgent, levels_before=before, levels_after={str(k): v for k, v in patients.levels(p).items()},
        created_at=now, versions=safety.versions(rt, p),
    )
    if d.alert:
        await alerts.schedule(s, rt, p, event=alerts.event_of(d), urgent=d.urgent, tier=d.tier,
                              session_id=session.id if session else None, ratings=ratings_text(session))
    if d.recheck and session is not None:
        await outbox.schedule(s, kind="recheck", due_at=recheck_due(p, session, now), now=now, patient_id=p.id,
                              chat_id=p.chat_id, session_id=session.id)
    if d.ask_next_morning and session is not None:
        await _ask_next_morning(s, rt, p, session, stage)


RECHECK_LEAD = timedelta(minutes=30)  # the 24-hour recheck comes this long before the next session's reminder


def recheck_due(p: Patient, session: ExerciseSession, now: datetime) -> datetime:
    """The 24-hour recheck: 24 hours after the session started, but before the next session's reminder (so the
    dose is decided before the next session starts, and the two questions do not come together); never
    sooner than RECHECK_LEAD after now."""
    base = session.started_at or session.planned_at
    next_session = at_local(session.local_date + timedelta(days=1), p.exercise_time, p.timezone)
    return max(min(base + timedelta(hours=24), next_session - RECHECK_LEAD), now + RECHECK_LEAD)


async def _ask_next_morning(s: AsyncSession, rt: Runtime, p: Patient, session: ExerciseSession,
                            stage: Stage) -> None:
    """Severe pain is always followed up the next morning: after a stop during or right after exercise, the
    session's next-morning question (even though it stopped); after a severe next-morning rating, the
    session's recheck, asked the following morning (docs/clinical.md)."""
    now = rt.clock.now()
    if stage in (Stage.DURING, Stage.AFTER):
        await outbox.schedule(s, kind="morning_prompt", now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id,
                              due_at=at_local(session.local_date + timedelta(days=1), p.morning_time, p.timezone))
    elif stage is Stage.NEXT_MORNING:
        tomorrow = local_date(now, p.timezone) + timedelta(days=1)
        await outbox.schedule(s, kind="recheck", now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id, payload={"severe": True},
                              due_at=at_local(tomorrow, p.morning_time, p.timezone))


def ratings_text(session: ExerciseSession | None) -> str:
    """The session's ratings given so far, e.g. 「運動前 2・運動中 5・運動直後 3」."""
    if session is None:
        return ""
    return "・".join(t("severe.ratings", name=t(f"rating.{name}"), value=getattr(session, name))
                    for name in RATINGS if getattr(session, name) is not None)


def _mean(ratings: list[int]) -> str:
    return f"{sum(ratings) / len(ratings):.1f}" if ratings else "－"


def decision_text(rt: Runtime, p: Patient, d: RulesDecision, session: ExerciseSession | None = None,
                  stage: Stage | None = None, case: Case | None = None) -> str:
    """The decision's message, quoting the numbers that led to it."""
    params: dict[str, object] = dict(element_text(p, d, dict(case.levels) if case is not None else levels_of(p)))
    params["missing"] = "、".join(t(f"rating.{m}") for m in d.missing)
    for name in RATINGS:
        value = getattr(session, name) if session is not None else None
        params[name] = "－" if value is None else value
    params["now"] = params.get(str(stage), "－") if stage is not None else "－"
    params.update(limit=d.limit, ratings=ratings_text(session), usual=p.usual_pain, **safety.contact(rt))
    earlier, recent = trend_windows(case, rt.thresholds) if case is not None else ([], [])
    params.update(last_week=_mean(earlier), this_week=_mean(recent))  # the week-to-week rule's numbers
    return t(d.message, **params)


async def answer_rating(s: AsyncSession, rt: Runtime, p: Patient, prompt: Prompt, value: int) -> Reply:
    """Store one 0-10 answer, decide, apply, schedule the next question; return what to say."""
    now = rt.clock.now()
    session = await sessions.get(s, prompt.session_id) if prompt.session_id else None
    if session is None:
        return Reply(t("common.closed"))
    kind = prompt.kind
    setattr(session, kind, value)
    stage = Stage(kind)
    case, d = await _decide(s, rt, p, session, stage)
    await _apply(s, rt, p, session, stage, d)
    text = decision_text(rt, p, d, session, stage, case)
    if d.action is Action.STOP:
        return Reply(text, priority="safety" if d.pause else "essential")
    if kind == "before":
        await outbox.schedule(s, kind="during_prompt", now=now, patient_id=p.id, chat_id=p.chat_id,
                              session_id=session.id,
                              due_at=now + timedelta(minutes=rt.settings.during_prompt_after_minutes))
        return Reply(join(text, plan_lines(p), t("session.tap_after_first")),
                     [[(t("button.first_done"), AskNow(session.id, "during").data)], *plan_buttons(p)])
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
    return Reply(join(text, t("session.next_plan"), plan_lines(p)), plan_buttons(p))


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
    case, d = await _decide(s, rt, p, session, Stage.CHECKIN, flags)
    await _apply(s, rt, p, session, Stage.CHECKIN, d)
    await pause(s, rt, p)
    informed = safety.informed_line(rt, await alerts.reaches_someone(s, rt, p))
    if safety.holds(d.tier):  # emergency / same day: the program waits for a clinician's clearance
        await safety.hold(s, rt, p, str(d.tier), sorted(str(f) for f in flags))
        after = safety.held_text(rt)
    else:  # rest today: asked again tomorrow morning
        after = await safety.ask_again(s, rt, p)
    return Reply(join(decision_text(rt, p, d, session, Stage.CHECKIN, case), informed, after), priority="safety")
