"""Every change of a patient's program state, each with what must go with it.

A patient's program state is `status` (trial -> active, or trial/active -> ended; ended -> trial again by
re-joining) and two flags, `paused` (by the patient or by a red flag) and `unreachable` (Telegram answered
403). Each function below is the only place its change is written: it sets the state and, in the same
transaction, cancels the due rows and closes the open questions that must not outlive it, and drops a
half-finished /settings input. Handlers and delivery call these; they never write the state inline.

| event            | from               | to                   | goes with it                                |
|------------------|--------------------|----------------------|---------------------------------------------|
| enrol            | (signup confirmed) | trial                | first reminder, trial rows, weekly why      |
| rejoin           | ended              | trial (a new period) | as enrol; history and levels kept           |
| pause            | trial/active       | paused               | exercise rows cancelled, questions closed   |
| resume           | paused             | not paused           | next reminder and weekly why planned        |
| continue_trial   | trial              | active               | trial rows cancelled, trial question closed |
| end              | trial/active       | ended                | all rows to the patient cancelled, all      |
|                  |                    |                      | questions closed                            |
| expire           | trial (last day)   | ended                | as end                                      |
| unreachable      | any                | unreachable          | exercise rows cancelled                     |
| reachable        | unreachable        | reachable            | rows planned again (as resume)              |
| change_condition | trial/active       | another program      | levels start at 1, the clinician is alerted |
| change_time      | trial/active       | same                 | reminders / morning questions moved         |
| set_level        | trial/active       | same, one element    | raise history follows (the clinician's      |
|                  |                    | at a chosen level    | control; the rules' own changes: sessions)  |
| hold_progression | trial/active       | raises held / not    | (rules: Case.progression_held)              |
| set_limits       | trial/active       | ceiling / "too       | (rules: Case.ceiling, Thresholds.severe)    |
|                  |                    | painful today"       |                                             |
| extend_trial     | trial              | trial, later end     | end-of-trial rows planned for the new end   |
| delete           | any                | (no patient)         | every row about the person erased           |

Which rows a pause or the end cancels is declared per kind in bot/delivery/registry.py. Alerts and staff
notices about a patient are never cancelled by a state change: they go to the clinic.
Functions return False (and change nothing) when the event does not apply to the current state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TypeGuard

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from bot import alerts
from bot.callbacks import Rejoin
from bot.coaching.messages import Reply
from bot.coaching.schedule import TRIAL_KINDS, schedule_reminder, schedule_trial_rows, schedule_why
from bot.delivery.registry import cancelled_by_end, cancelled_by_pause
from bot.i18n import t
from bot.reports.text import fall_risk_line
from bot.runtime import Runtime
from bot.storage import clinicians, outbox, sessions
from bot.storage import patients as store
from bot.storage.models import Outbox, Patient, Signup
from bot.timeplan import at_local, local_date
from rules import CONDITIONS, Element, Flag, Thresholds, load_program
from rules.types import CEILING_MAX, CEILING_MIN

ENROLLED = ("trial", "active")
# What a pause closes: every exercise question (the reminder's choice and the 0-10 ratings). The question
# about continuing after the trial stays open: the trial runs out whether paused or not.
EXERCISE_QUESTIONS = ("reminder", *sessions.RATING_KINDS)


def enrolled(p: Patient | None) -> TypeGuard[Patient]:
    return p is not None and p.status in ENROLLED


def active(p: Patient | None) -> TypeGuard[Patient]:
    """Receives reminders and questions now: enrolled, not paused, reachable."""
    return enrolled(p) and not p.paused and not p.unreachable


async def _plan(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """The rows that keep a patient's days going: the next reminder and weekly explanation when active,
    the end-of-trial rows on trial (all idempotent: planning twice plans once)."""
    if p.status == "trial":
        await schedule_trial_rows(s, rt, p)
    if active(p):
        await schedule_reminder(s, rt, p)
        await schedule_why(s, rt, p, rt.clock.now() + timedelta(days=7))


async def _stop(s: AsyncSession, p: Patient, kinds: tuple[str, ...], questions: tuple[str, ...] | None) -> None:
    """Cancel the patient's pending rows of these kinds and close their open questions (None: all)."""
    await outbox.cancel(s, patient_id=p.id, kinds=kinds)
    await sessions.close_open(s, patient_id=p.id, kinds=questions)
    p.awaiting = None


# --- what the patient is told about their state (/start, /today, /settings say the same) -------------

def status_text(p: Patient) -> str:
    if p.status == "ended":
        return t("status.ended", nickname=p.nickname)
    if p.paused:
        return t("status.paused")
    return t("status.running", time=p.exercise_time)


def ended_reply(p: Patient) -> Reply:
    """What an ended patient hears from /start, /today and /settings: ended, nothing is sent, how to re-join."""
    return Reply(status_text(p), [[(t("button.rejoin"), Rejoin("start").data)]])


def safety_check(none_apply: str, some_apply: str) -> Reply:
    """The red-flag screening before (re-)joining: the warning signs, and two buttons with these data."""
    flags = "\n".join(t("list.item", text=t(f"flag.{f}")) for f in Flag)
    return Reply(t("signup.redflags", flags=flags),
                 [[(t("button.none_apply"), none_apply)], [(t("button.some_apply"), some_apply)]])


# --- joining -------------------------------------------------------------------------------------

async def enrol(s: AsyncSession, rt: Runtime, sign: Signup) -> Patient:
    """A confirmed signup becomes a patient on trial: first reminder, end-of-trial rows, weekly why."""
    now = rt.clock.now()
    tz = rt.settings.clinic_timezone
    p = store.new_patient(user_id=sign.telegram_user_id, chat_id=sign.chat_id, data=sign.data,
                          consent_at=sign.consent_at, now=now, trial_ends_on=trial_end(rt), timezone=tz)
    c = await clinicians.get_active(s, sign.data.get("clinician_id"))
    p.clinician_id = c.id if c is not None else await clinicians.default_for_new_patient(
        s, rt.settings.default_clinician_id)
    s.add(p)
    await s.delete(sign)
    await s.flush()
    await _plan(s, rt, p)
    if p.usual_pain >= rt.thresholds.usual_high:  # starts at level 1, progression held (rules): the clinician
        await alerts.schedule(s, rt, p, event="usual_pain_high", urgent=False)  # sets the ceiling first
    detail = "、".join(filter(None, (t(f"condition.{p.condition}"), fall_risk_line(p.falls_last_year, p.unsteady))))
    await alerts.staff_notice(s, rt, event="signup_done", telegram_user_id=p.telegram_user_id,
                              nickname=p.nickname, detail=detail)
    return p


def trial_end(rt: Runtime) -> date:
    """The last day of a trial starting today."""
    return local_date(rt.clock.now(), rt.settings.clinic_timezone) + timedelta(days=rt.settings.trial_days)


async def rejoin(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    """An ended patient starts a new trial period. History, settings and levels are kept (the rules step
    back on pain as for anyone); the end-of-trial rows are planned for the new period (their keys name it)."""
    if p.status != "ended":
        return False
    p.status, p.paused, p.awaiting = "trial", False, None
    p.trial_ends_on = trial_end(rt)
    await _plan(s, rt, p)
    await alerts.staff_notice(s, rt, event="rejoined", telegram_user_id=p.telegram_user_id,
                              nickname=p.nickname, detail=t(f"condition.{p.condition}"))
    return True


# --- pause ---------------------------------------------------------------------------------------

async def pause(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    """By the patient (/settings) or by a red flag: no reminders, no exercise questions until resumed."""
    if not enrolled(p):
        return False
    p.paused = True
    await _stop(s, p, cancelled_by_pause(), EXERCISE_QUESTIONS)
    return True


async def resume(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    if not enrolled(p) or not p.paused:
        return False
    p.paused = False
    await _plan(s, rt, p)
    return True


# --- the end of the trial, and the end ----------------------------------------------------------

async def continue_trial(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    """The patient chose to go on after the trial: active, no end of trial any more."""
    if p.status != "trial":
        return False
    p.status = "active"
    await outbox.cancel(s, patient_id=p.id, kinds=TRIAL_KINDS)
    await sessions.close_open(s, patient_id=p.id, kinds=("trial",))
    return True


async def end(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    """The patient ended the program: nothing more is sent to them, no question of theirs stays open.
    Their data stays (for their clinician, /mydata, a later re-join) until they /delete it."""
    if not enrolled(p):
        return False
    p.status, p.paused = "ended", False
    await _stop(s, p, cancelled_by_end(), None)
    return True


async def expire(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    """The trial's last day passed without the patient choosing to continue."""
    if p.status != "trial":
        return False
    return await end(s, rt, p)


# --- reachability ----------------------------------------------------------------------------------

async def unreachable(s: AsyncSession, rt: Runtime, p: Patient) -> None:
    """Telegram answered 403 (the patient blocked the bot): stop sending until they write again.
    What a pause cancels is cancelled; open questions stay open (unblocking, they can still answer the one
    on their screen); the trial rows stay (its question is not sent while unreachable; it still runs out)."""
    p.unreachable = True
    await outbox.cancel(s, patient_id=p.id, kinds=cancelled_by_pause())


async def reachable(s: AsyncSession, rt: Runtime, p: Patient) -> bool:
    """A patient marked unreachable wrote again: plan their days again. False if they were reachable."""
    if not p.unreachable:
        return False
    p.unreachable = False
    await _plan(s, rt, p)
    return True


# --- settings -------------------------------------------------------------------------------------

async def change_condition(s: AsyncSession, rt: Runtime, p: Patient, condition: str, *,
                           by_clinic: bool = False) -> bool:
    """Another program (knee / low back / both): a new program starts at its beginning (level 1 of every element,
    no raise history: its exercises are new to the patient), and the clinician is told (unless the clinic
    changed it: `by_clinic`)."""
    if not enrolled(p) or condition not in CONDITIONS:
        return False
    p.awaiting = None
    if condition != p.condition:  # the same program again changes nothing
        p.condition = condition
        store.set_levels(p, {e: 1 for e in load_program(condition).max_levels}, tuple())
        if not by_clinic:
            await alerts.schedule(s, rt, p, event="condition_changed", urgent=False)
    return True


# --- the clinician's controls (bot/coaching/controls.py records who did it) ------------------------

def level_range(p: Patient, element: Element) -> range:
    """The levels an element of this patient's program can be set to."""
    return range(1, load_program(p.condition).max_levels[element] + 1)


async def set_level(s: AsyncSession, rt: Runtime, p: Patient, element: Element, level: int) -> bool:
    """The one way a level is set by hand (the rules' own raises and step backs: coaching/sessions.py). The raise
    history follows: a raise is remembered as the rules' raises are (the next step back undoes it first), a
    lowering forgets that element's latest raises. False when the level is out of range or unchanged."""
    if not enrolled(p) or level not in level_range(p, element):
        return False
    levels = store.levels(p)
    old = levels[element]
    if level == old:
        return False
    history = [Element(e) for e in p.raise_history]
    if level > old:
        history += [element] * (level - old)
    else:
        for _ in range(old - level):
            if element in history:
                del history[len(history) - 1 - history[::-1].index(element)]
    levels[element] = level
    store.set_levels(p, levels, tuple(history))
    return True


def step_back_target(p: Patient) -> tuple[Element, int] | None:
    """What a step back lowers, as the rules do: the element raised last (reps when none was), one level;
    None at level 1."""
    element = Element(p.raise_history[-1]) if p.raise_history else Element.REPS
    level = store.levels(p)[element]
    return (element, level - 1) if level > 1 else None


async def hold_progression(s: AsyncSession, rt: Runtime, p: Patient, held: bool) -> bool:
    """No raises while held (rules: Case.progression_held); step backs still apply."""
    if not enrolled(p) or p.progression_held == held:
        return False
    p.progression_held = held
    return True


async def set_limits(s: AsyncSession, rt: Runtime, p: Patient, *, ceiling: int | None = None,
                     severe: int | None = None, which: str) -> bool:
    """The clinician's pain ceiling during exercise (`which="ceiling"`, 2-6) or "too painful to exercise today"
    rating (`which="severe"`); None: the clinic's default. False when out of range or unchanged."""
    if not enrolled(p):
        return False
    if which == "ceiling":
        if (ceiling is not None and ceiling not in CEILINGS) or ceiling == p.ceiling:
            return False
        p.ceiling = ceiling
        return True
    if which == "severe":
        if (severe is not None and severe not in severe_range(rt)) or severe == p.severe_threshold:
            return False
        p.severe_threshold = severe
        return True
    return False


CEILINGS = range(CEILING_MIN, CEILING_MAX + 1)


def severe_range(rt: Runtime) -> range:
    """The "too painful to exercise today" ratings a clinician may choose: above the clinic's during_cap (the
    thresholds' own rule), up to 10."""
    return range(rt.thresholds.during_cap + 1, 11)


def thresholds_for(rt: Runtime, p: Patient) -> Thresholds:
    """The clinic's thresholds with this patient's "too painful today" rating, if the clinician set one."""
    if p.severe_threshold is None or p.severe_threshold == rt.thresholds.severe:
        return rt.thresholds
    return replace(rt.thresholds, severe=p.severe_threshold)


async def extend_trial(s: AsyncSession, rt: Runtime, p: Patient, days: int) -> bool:
    """The trial runs `days` longer: its end-of-trial question and end are planned for the new last day."""
    if p.status != "trial" or days < 1:
        return False
    p.trial_ends_on = p.trial_ends_on + timedelta(days=days)
    await outbox.cancel(s, patient_id=p.id, kinds=TRIAL_KINDS)
    await schedule_trial_rows(s, rt, p)
    return True


async def change_time(s: AsyncSession, rt: Runtime, p: Patient, field: str, value: str) -> bool:
    """A new exercise time moves the planned reminders; a new morning time the pending morning questions."""
    if not enrolled(p) or field not in ("exercise_time", "morning_time"):
        return False
    setattr(p, field, value)
    p.awaiting = None
    if field == "exercise_time":
        await outbox.cancel(s, patient_id=p.id, kinds=("reminder",))
        if active(p):
            await schedule_reminder(s, rt, p)
    else:
        rows = await s.scalars(select(Outbox).where(Outbox.patient_id == p.id, Outbox.kind == "morning_prompt",
                                                    Outbox.state == outbox.PENDING))
        for row in rows:
            row.due_at = at_local(local_date(row.due_at, p.timezone), p.morning_time, p.timezone)
    return True


# --- erasure ----------------------------------------------------------------------------------------

async def delete(s: AsyncSession, rt: Runtime, telegram_user_id: int) -> bool:
    """/delete: everything about the person goes (their rows, questions, signup); an anonymous count stays.
    A reminder already claimed by a delivery batch goes with its row, and the runner sends no row that is
    no longer claimed (bot/delivery/runner.py)."""
    return await store.erase(s, telegram_user_id, local_date(rt.clock.now(), rt.settings.clinic_timezone))
