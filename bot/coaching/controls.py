"""A clinician's controls on a patient (issue 10 §1): each one changes the patient through
bot/coaching/patients.py (or coaching/safety.py for a clearance), writes an audit row (who, when, which
patient, action, before -> after; bot/storage/audit.py) and, where the patient should know, plans a
`clinic_notice` row telling them kindly (bot/delivery/kinds.py). Each returns the Change it made, or None when
it no longer applies to the patient's state (already resumed, not on trial ...): the caller says so.

Who may use them (own patients, admins all) is checked by the caller (bot/handlers/controls.py). Nothing here
talks to Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import patients as state
from bot.coaching import safety
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import audit, outbox
from bot.storage import patients as store
from bot.storage.models import Patient, PatientQuestion
from rules import CONDITIONS, Element, load_program

# Every action an audit row can name (its text: control.action.<name>).
ACTIONS = ("pause", "resume", "clear", "keep_paused", "level", "step_back", "hold", "unhold", "ceiling", "severe",
           "condition", "extend", "end", "note", "memo", "reply")
EXTEND_DAYS = (7, 14)
NOTE_MAX = 1000


@dataclass(frozen=True)
class Actor:
    """Who acts: their Telegram user id and the name patients and the audit log show."""

    user_id: int
    name: str


@dataclass(frozen=True)
class Change:
    action: str
    before: Any
    after: Any
    told: bool  # the patient is told (a clinic_notice row)


async def _done(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, action: str, before: Any, after: Any, *,
                tell: str | None = None, detail: int | None = None, **notice: Any) -> Change:
    now = rt.clock.now()
    row = await audit.record(s, patient_id=p.id, at=now, actor_user_id=actor.user_id, actor_name=actor.name,
                             action=action, before=before, after=after, detail=detail)
    if tell is not None:
        await outbox.schedule(s, kind="clinic_notice", due_at=now, now=now, patient_id=p.id, chat_id=p.chat_id,
                              variant=str(row.id), payload={"event": tell, "by": actor.name, **notice})
    return Change(action, before, after, tell is not None)


def program_state(p: Patient, held: bool) -> str:
    """running / paused / held (waiting for a clinician's clearance) / ended."""
    if p.status == "ended":
        return "ended"
    return "held" if held else ("paused" if p.paused else "running")


# --- the program: pause, resume, clear -----------------------------------------------------------------

async def pause(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor) -> Change | None:
    if p.paused or not await state.pause(s, rt, p):
        return None
    return await _done(s, rt, p, actor, "pause", "running", "paused", tell="paused")


async def resume(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor) -> Change | None:
    """A plain pause ends; a patient held by a red flag is cleared instead (`clear`)."""
    if await safety.open_hold(s, p) is not None or not await state.resume(s, rt, p):
        return None
    return await _done(s, rt, p, actor, "resume", "paused", "running", tell="resumed")


async def clear(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor) -> Change | None:
    """After the clinic's evaluation of a red flag: the hold is cleared (who, when: the clearance row) and the
    program resumes; the patient is told by the clearance's own `cleared` row."""
    if not await safety.clear(s, rt, p, by=actor.user_id):
        return None
    return await _done(s, rt, p, actor, "clear", "held", program_state(p, False))


async def keep_paused(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor) -> Change | None:
    """After the evaluation: not yet. The hold (or pause) stays, and the patient hears it from the clinic."""
    held = await safety.open_hold(s, p) is not None
    if not state.enrolled(p) or not p.paused:
        return None
    now_state = program_state(p, held)
    return await _done(s, rt, p, actor, "keep_paused", now_state, now_state, tell="kept_paused")


# --- the dose ------------------------------------------------------------------------------------------

async def set_level(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, element: Element, level: int, *,
                    action: str = "level") -> Change | None:
    """Every level a clinician sets goes through here (and state.set_level)."""
    before = store.levels(p)
    if not await state.set_level(s, rt, p, element, level):
        return None
    after = store.levels(p)
    return await _done(s, rt, p, actor, action, {str(element): before[element]}, {str(element): level},
                       tell="level", levels_before={str(e): n for e, n in before.items()},
                       levels_after={str(e): n for e, n in after.items()})


async def step_back(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor) -> Change | None:
    """One step down, as the rules step back: the element raised last (reps when none was)."""
    target = state.step_back_target(p) if state.enrolled(p) else None
    if target is None:
        return None
    return await set_level(s, rt, p, actor, *target, action="step_back")


async def hold(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, held: bool) -> Change | None:
    if not await state.hold_progression(s, rt, p, held):
        return None
    return await _done(s, rt, p, actor, "hold" if held else "unhold", not held, held)


async def set_ceiling(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, value: int | None) -> Change | None:
    old = p.ceiling
    if not await state.set_limits(s, rt, p, ceiling=value, which="ceiling"):
        return None
    return await _done(s, rt, p, actor, "ceiling", old, value)


async def set_severe(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, value: int | None) -> Change | None:
    old = p.severe_threshold
    if not await state.set_limits(s, rt, p, severe=value, which="severe"):
        return None
    return await _done(s, rt, p, actor, "severe", old, value)


async def change_condition(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, condition: str) -> Change | None:
    old = p.condition
    if condition == old or condition not in CONDITIONS \
            or not await state.change_condition(s, rt, p, condition, by_clinic=True):
        return None
    return await _done(s, rt, p, actor, "condition", old, condition, tell="condition")


# --- the trial -----------------------------------------------------------------------------------------

async def extend(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, days: int) -> Change | None:
    old = p.trial_ends_on
    if not await state.extend_trial(s, rt, p, days):
        return None
    return await _done(s, rt, p, actor, "extend", old.isoformat(), p.trial_ends_on.isoformat(), tell="extended")


async def end(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor) -> Change | None:
    old = p.status
    if not await state.end(s, rt, p):
        return None
    return await _done(s, rt, p, actor, "end", old, "ended", tell="ended")


# --- notes and replies ---------------------------------------------------------------------------------

async def note(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, text: str, *, private: bool) -> Change:
    """A note to the patient (sent as a message from the clinic, signed with the clinician's name) or a private
    note on the patient card."""
    row = await audit.add_note(s, patient_id=p.id, kind="private" if private else "to_patient", text=text,
                               author_user_id=actor.user_id, author_name=actor.name, now=rt.clock.now())
    if private:
        return await _done(s, rt, p, actor, "memo", None, None, detail=row.id)
    return await _done(s, rt, p, actor, "note", None, None, tell="note", detail=row.id, note_id=row.id)


async def reply(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, question: PatientQuestion,
                text: str) -> Change | None:
    """The clinic's reply to a patient's question: recorded once (a second reply finds it answered) and sent to
    the patient in the bot's voice (担当スタッフからの返信)."""
    if not await audit.answer_question(s, question.id, answer=text, by=actor.user_id, name=actor.name,
                                       now=rt.clock.now()):
        return None
    return await _done(s, rt, p, actor, "reply", None, None, tell="answer", detail=question.id,
                       question_id=question.id)


# --- how a value reads (the clinician's answer, the card's audit log, the CSV) --------------------------

def shown(rt: Runtime, condition: str, action: str, value: Any) -> str:
    """A before/after value in words, for a patient of this condition: 「一時停止中」, 「回数 2/5」, 「4」 ..."""
    if value is None:
        match action:
            case "ceiling":
                return t("control.value.ceiling_default")
            case "severe":
                return t("control.value.severe_default", n=rt.thresholds.severe)
        return t("report.no_data")
    match action:
        case "pause" | "resume" | "clear" | "keep_paused" | "end":
            return t(f"control.state.{value}")
        case "level" | "step_back" if isinstance(value, dict) and condition in CONDITIONS:
            program = load_program(condition)
            return "・".join(f"{program.element_name(e)} {n}/{program.max_levels.get(Element(e), n)}"
                            for e, n in value.items() if e in Element.__members__.values())
        case "hold" | "unhold":
            return t("control.value.held") if value else t("control.value.not_held")
        case "condition":
            return t(f"condition.{value}") if value in CONDITIONS else str(value)
        case "extend":
            day = date.fromisoformat(str(value))
            return f"{day.month}/{day.day}"
    return str(value)
