"""The patient card and its controls (issue 10 §1): /patient ID and 「詳細を見る」 (cp:) show the card; its buttons
(one callback family per group: lv: levels, ps: program, lm: limits and condition, tl: trial, nt: notes) and the
typed commands (/pause ID, /level ID 回数 3, /note ID text ...) act on the patient through
bot/coaching/controls.py, which records each action in the audit log. Own patients only (admins: all);
everyone else gets the one refusal. A button whose patient is gone (erased, reassigned) or whose action no longer
applies (already resumed) says so and changes nothing; a forged one gets the "no longer valid" answer.

A button that asks for text (a note, a private note, a reply to a question) remembers what the clinician's
next message is for (`staff_input`, STAFF_INPUT_MINUTES; another control or command in between forgets it);
`staff_text` takes that message (from handlers/start.on_text, before anything else).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import (
    CONTROL_FAMILIES,
    PATTERNS,
    LevelControl,
    LimitControl,
    NoteControl,
    OpenPatient,
    ProgramControl,
    TrialControl,
    _Control,
    parse_id,
)
from bot.coaching import controls, safety
from bot.coaching import patients as state
from bot.coaching.controls import Actor, Change
from bot.coaching.messages import Reply, join
from bot.handlers.common import ClinicianTurn, Turn, clinician_handler
from bot.i18n import t
from bot.parsing import parse_name
from bot.runtime import Runtime
from bot.storage import audit, clinicians
from bot.storage.models import AuditEntry, Outbox, Patient, PatientQuestion
from rules import CONDITIONS, ELEMENT_ORDER, Element, load_program

log = logging.getLogger(__name__)

STAFF_INPUT_MINUTES = 30  # a note or reply asked for by a button is taken within this time
CARD_AUDIT = 8  # audit entries on the card
CARD_NOTES = 3  # private notes on the card
CARD_ALERTS = 5
NAME_MAX = 64
MAX_EXTEND_DAYS = 60


def actor_of(turn: Turn) -> Actor:
    """The clinician's name as patients and the audit log show it (an admin who is not a clinician: their
    Telegram name)."""
    v = turn.viewer
    if v is not None and v.clinician is not None:
        return Actor(turn.user.id, v.clinician.name)
    return Actor(turn.user.id, parse_name(turn.user.full_name, NAME_MAX) or t("clinic.unnamed", id=turn.user.id))


# --- the card ----------------------------------------------------------------------------------------

async def open_alerts(s: AsyncSession, p: Patient) -> list[Outbox]:
    """Alerts about this patient nobody marked 「対応しました」, newest first."""
    rows = await s.scalars(select(Outbox).where(col(Outbox.patient_id) == p.id, col(Outbox.kind) == "alert",
                                                col(Outbox.state).in_(("pending", "claimed", "sent")))
                           .order_by(col(Outbox.id).desc()).limit(50))
    return [r for r in rows if "ack" not in r.payload][:CARD_ALERTS]


def _when(rt: Runtime, at: datetime) -> str:
    local = at.astimezone(rt.settings.tz)
    return f"{local.month}/{local.day} {local:%H:%M}"


def audit_line(rt: Runtime, p: Patient, e: AuditEntry) -> str:
    what = t(f"control.action.{e.action}")
    if e.erased or (e.before is None and e.after is None and e.action in ("note", "memo", "reply")):
        change = ""
    else:
        change = t("control.change", before=controls.shown(rt, p.condition, e.action, e.before),
                   after=controls.shown(rt, p.condition, e.action, e.after))
    return t("control.card.audit_line", when=_when(rt, e.at), name=e.actor_name, what=what, change=change)


async def card(s: AsyncSession, rt: Runtime, p: Patient) -> Reply:
    """The controls part of the card: status, limits, open alerts and questions, private notes, the audit log,
    and the buttons for what applies now."""
    held = await safety.open_hold(s, p) is not None
    status = controls.program_state(p, held)
    program = load_program(p.condition)
    lines = [t("control.card.head", nickname=p.nickname, id=p.id),
             t("control.card.status", state=t(f"control.state.{status}"), status=t(f"report.status.{p.status}"),
               trial_end=f"{p.trial_ends_on.month}/{p.trial_ends_on.day}"),
             t("control.card.levels", levels="・".join(
                 f"{program.element_name(e)} {lv}/{program.max_levels[e]}" for e, lv in state.store.levels(p).items()
                 if any(e in x.ladder for x in program.exercises))),  # only the elements this program uses
             t("control.card.limits", ceiling=controls.shown(rt, p.condition, "ceiling", p.ceiling),
               severe=controls.shown(rt, p.condition, "severe", p.severe_threshold),
               hold=controls.shown(rt, p.condition, "hold", p.progression_held))]
    if p.contact:  # given at signup, with its own consent line (issue 10 §5): so staff can call
        lines.append(t("alert.contact", contact=p.contact))
    alerts = await open_alerts(s, p)
    if alerts:
        lines.append(t("control.card.alerts", n=len(alerts), items="\n".join(
            t("control.card.item", text=f"{_when(rt, a.created_at)} {t(f'alert.event.{event}')}")
            for a in alerts if (event := a.payload.get("event")))))
    questions = await audit.open_questions(s, p.id)
    if questions:
        lines.append(t("control.card.questions", n=len(questions), items="\n".join(
            t("control.card.item", text=f"{_when(rt, q.asked_at)}（Q{q.id}）{q.text[:80]}") for q in questions)))
    notes = await audit.notes(s, p.id, "private", CARD_NOTES)
    if notes:
        lines.append(t("control.card.notes", items="\n".join(
            t("control.card.item", text=f"{_when(rt, n.created_at)} {n.author_name}：{n.text[:200]}") for n in notes)))
    entries = await audit.entries(s, p.id, CARD_AUDIT)
    lines.append(t("control.card.audit", items="\n".join(audit_line(rt, p, e) for e in entries)
                   or t("control.card.audit_none")))
    return Reply("\n\n".join(lines), card_buttons(p, held))


def card_buttons(p: Patient, held: bool) -> list[list[tuple[str, str]]]:
    pid = p.id
    if p.status == "ended":
        return [[(t("button.control.note"), NoteControl(pid, "patient").data),
                 (t("button.control.memo"), NoteControl(pid, "private").data)]]
    if held:
        program = [(t("button.control.clear"), ProgramControl(pid, "clear").data),
                   (t("button.control.keep"), ProgramControl(pid, "keep").data)]
    elif p.paused:
        program = [(t("button.control.resume"), ProgramControl(pid, "resume").data),
                   (t("button.control.keep"), ProgramControl(pid, "keep").data)]
    else:
        program = [(t("button.control.pause"), ProgramControl(pid, "pause").data)]
    hold = (t("button.control.unhold"), LevelControl(pid, "unhold").data) if p.progression_held else \
        (t("button.control.hold"), LevelControl(pid, "hold").data)
    trial = [(t("button.control.extend"), TrialControl(pid, "ext").data)] if p.status == "trial" else []
    return [program,
            [(t("button.control.level"), LevelControl(pid, "menu").data),
             (t("button.control.step_back"), LevelControl(pid, "back").data)],
            [hold],
            [(t("button.control.ceiling"), LimitControl(pid, "ceil").data),
             (t("button.control.severe"), LimitControl(pid, "sev").data)],
            [(t("button.control.condition"), LimitControl(pid, "cond").data)],
            [*trial, (t("button.control.end"), TrialControl(pid, "end").data)],
            [(t("button.control.note"), NoteControl(pid, "patient").data),
             (t("button.control.memo"), NoteControl(pid, "private").data)]]


# --- what an action answers ----------------------------------------------------------------------------

def done_reply(rt: Runtime, p: Patient, change: Change) -> Reply:
    """What changed, before -> after, and whether the patient is told."""
    what = t(f"control.action.{change.action}")
    if change.action in ("note", "memo", "reply"):
        text = t(f"control.done.{change.action}", nickname=p.nickname, id=p.id)
    else:
        text = t("control.done", what=what, nickname=p.nickname, id=p.id,
                 before=controls.shown(rt, p.condition, change.action, change.before),
                 after=controls.shown(rt, p.condition, change.action, change.after))
    if change.told and change.action not in ("note", "reply"):
        text = join(text, t("control.told"))
    return Reply(text, [[(t("button.control.card"), OpenPatient(p.id).data)]])


def stale(p: Patient) -> Reply:
    return Reply(t("control.stale", nickname=p.nickname, id=p.id),
                 [[(t("button.control.card"), OpenPatient(p.id).data)]])


def _choices(rows: list[tuple[str, str]], per_row: int = 3) -> list[list[tuple[str, str]]]:
    return [rows[i:i + per_row] for i in range(0, len(rows), per_row)]


async def _press(s: AsyncSession, rt: Runtime, p: Patient, actor: Actor, press: _Control) -> Reply | Change | None:
    """A control button: a question to narrow it down (a Reply), the change it made, or None (does not apply)."""
    pid, what, value = p.id, press.what, press.value
    match press:
        case LevelControl(what="menu"):
            program = load_program(p.condition)
            return Reply(t("control.ask.element", nickname=p.nickname),
                         _choices([(program.element_name(e), LevelControl(pid, str(e)).data) for e in ELEMENT_ORDER],
                                  2))
        case LevelControl(what="back"):
            return await controls.step_back(s, rt, p, actor)
        case LevelControl(what="hold" | "unhold"):
            return await controls.hold(s, rt, p, actor, what == "hold")
        case LevelControl() if value == "":
            element = Element(what)
            program = load_program(p.condition)
            now = state.store.levels(p)[element]
            return Reply(t("control.ask.level", element=program.element_name(element), now=now),
                         _choices([(str(n), LevelControl(pid, what, str(n)).data)
                                   for n in state.level_range(p, element)], 5))
        case LevelControl():
            return await controls.set_level(s, rt, p, actor, Element(what), int(value))
        case ProgramControl(what="pause"):
            return await controls.pause(s, rt, p, actor)
        case ProgramControl(what="resume"):
            return await controls.resume(s, rt, p, actor)
        case ProgramControl(what="clear"):
            return await controls.clear(s, rt, p, actor)
        case ProgramControl(what="keep"):
            return await controls.keep_paused(s, rt, p, actor)
        case LimitControl(what="ceil") if value == "":
            return Reply(t("control.ask.ceiling"), _choices(
                [(str(n), LimitControl(pid, "ceil", str(n)).data) for n in state.CEILINGS]
                + [(t("button.control.default"), LimitControl(pid, "ceil", "std").data)]))
        case LimitControl(what="ceil"):
            return await controls.set_ceiling(s, rt, p, actor, None if value == "std" else int(value))
        case LimitControl(what="sev") if value == "":
            return Reply(t("control.ask.severe", n=rt.thresholds.severe), _choices(
                [(str(n), LimitControl(pid, "sev", str(n)).data) for n in state.severe_range(rt)]
                + [(t("button.control.default"), LimitControl(pid, "sev", "std").data)]))
        case LimitControl(what="sev"):
            level = None if value == "std" else int(value)
            return await controls.set_severe(s, rt, p, actor, level)
        case LimitControl(what="cond") if value == "":
            return Reply(t("control.ask.condition", nickname=p.nickname),
                         [[(t(f"condition.{c}"), LimitControl(pid, "cond", c).data)] for c in CONDITIONS])
        case LimitControl(what="cond"):
            return await controls.change_condition(s, rt, p, actor, value)
        case TrialControl(what="ext") if value == "":
            return Reply(t("control.ask.extend", nickname=p.nickname),
                         [[(t("button.control.days", n=n), TrialControl(pid, "ext", str(n)).data)
                           for n in controls.EXTEND_DAYS]])
        case TrialControl(what="ext"):
            return await controls.extend(s, rt, p, actor, int(value))
        case TrialControl(what="end"):
            if not state.enrolled(p):
                return None
            return Reply(t("control.ask.end", nickname=p.nickname),
                         [[(t("button.control.end_yes"), TrialControl(pid, "endyes").data)]])
        case TrialControl(what="endyes"):
            return await controls.end(s, rt, p, actor)
        case NoteControl():
            await audit.expect_input(s, actor.user_id, "note" if what == "patient" else "memo", pid, rt.clock.now())
            return Reply(t(f"control.ask.{'note' if what == 'patient' else 'memo'}", nickname=p.nickname,
                           minutes=STAFF_INPUT_MINUTES))
    return None


@clinician_handler
async def on_control(turn: ClinicianTurn) -> None:
    """lv: ps: lm: tl: nt: — a button on the patient card."""
    press = None
    for family in CONTROL_FAMILIES.values():
        press = press or family.parse(turn.data)
    if press is None:
        turn.closed()
        return
    p = await clinicians.may_see(turn.s, turn.viewer, press.patient_id)
    if p is None:  # erased, reassigned, or never theirs: the same words for all three
        turn.notice(t("control.gone"))
        return
    await audit.forget_input(turn.s, turn.user.id)  # another action: a note asked for before is not expected
    result = await _press(turn.s, turn.rt, p, actor_of(turn), press)
    turn.ack(keep_buttons=True)
    if result is None:
        turn.send(stale(p))
    elif isinstance(result, Change):
        log.info("control %s on patient %s by user %s", result.action, p.id, turn.user.id)
        turn.send(done_reply(turn.rt, p, result))
    else:
        turn.send(result)


# --- typed commands ------------------------------------------------------------------------------------

async def _patient_arg(turn: ClinicianTurn, usage: str) -> Patient | None:
    """The command's patient (first argument), if this viewer may see them; else usage or the refusal."""
    await audit.forget_input(turn.s, turn.user.id)  # a typed command: a note asked for before is not expected
    pid = turn.id_argument(usage)
    if pid is None:
        return None
    p = await clinicians.may_see(turn.s, turn.viewer, pid)
    if p is None:
        turn.refuse()
    return p


def _rest(turn: Turn, skip: int) -> str:
    """The command's text after its first `skip` words, line breaks kept (a note's text)."""
    parts = turn.text.split(maxsplit=skip)
    return parts[skip].strip() if len(parts) > skip else ""


async def _answer(turn: ClinicianTurn, p: Patient, change: Change | None) -> None:
    if change is None:
        turn.send(stale(p))
    else:
        log.info("control %s on patient %s by user %s", change.action, p.id, turn.user.id)
        turn.send(done_reply(turn.rt, p, change))


def _simple(action: str):
    """/pause ID, /resume ID, /keep ID, /stepback ID, /hold ID, /unhold ID, /end ID"""
    async def run(turn: ClinicianTurn) -> None:
        p = await _patient_arg(turn, t(f"control.usage.{action}"))
        if p is None:
            return
        s, rt, actor = turn.s, turn.rt, actor_of(turn)
        match action:
            case "pause":
                change = await controls.pause(s, rt, p, actor)
            case "resume":
                change = await controls.resume(s, rt, p, actor)
            case "keep_paused":
                change = await controls.keep_paused(s, rt, p, actor)
            case "step_back":
                change = await controls.step_back(s, rt, p, actor)
            case "hold" | "unhold":
                change = await controls.hold(s, rt, p, actor, action == "hold")
            case _:
                change = await controls.end(s, rt, p, actor)
        await _answer(turn, p, change)
    run.__name__ = run.__qualname__ = f"command_{action}"
    return clinician_handler(run)


@clinician_handler
async def clear(turn: ClinicianTurn) -> None:
    """/clear ID: the patient's clinician or an admin clears a patient held by an emergency or same-day red flag
    (or a signup screen): recorded (who, when; the audit log), the program resumes and the patient is told."""
    p = await _patient_arg(turn, t("clinic.clear.usage"))
    if p is None:
        return
    change = await controls.clear(turn.s, turn.rt, p, actor_of(turn))
    if change is None:
        turn.send(Reply(t("clinic.clear.nothing", nickname=p.nickname, patient_id=p.id)))
        return
    log.info("patient %s cleared by user %s", p.id, turn.user.id)
    turn.send(Reply(t("clinic.clear.done", nickname=p.nickname, patient_id=p.id)))


def element_named(p: Patient, word: str) -> Element | None:
    """回数 / reps / 可動域 ... -> the element (the names the bot uses for this patient's program, or the ids)."""
    program = load_program(p.condition)
    for e in ELEMENT_ORDER:
        if word in (str(e), program.element_name(e)):
            return e
    return None


BAD = object()  # a typed value that could not be read: the command's usage is sent


async def _typed(turn: ClinicianTurn, usage: str, read: Callable[[Patient, list[str]], Any],
                 act: Callable[[Patient, Any], Awaitable[Change | None]]) -> None:
    """`/command ID value...`: the patient (else usage / the refusal), the value read from the other words (else
    usage), then the action and its answer."""
    p = await _patient_arg(turn, usage)
    if p is None:
        return
    value = read(p, turn.args[1:])
    if value is BAD:
        turn.send(Reply(usage))
        return
    await _answer(turn, p, await act(p, value))


def _number_or_default(words: list[str], allowed: range) -> Any:
    """A number in `allowed`, None for 標準 / std (the clinic's default), else BAD."""
    if not words:
        return BAD
    if words[0] in ("標準", "std"):
        return None
    n = parse_id(words[0])
    return n if n is not None and n in allowed else BAD


def _level(p: Patient, words: list[str]) -> Any:
    element = element_named(p, words[0]) if len(words) > 1 else None
    n = parse_id(words[1]) if len(words) > 1 else None
    return (element, n) if element is not None and n is not None and n in state.level_range(p, element) else BAD


def _condition(p: Patient, words: list[str]) -> Any:
    word = words[0] if words else ""
    return next((c for c in CONDITIONS if word in (c, t(f"condition.{c}"))), BAD)


def _days(p: Patient, words: list[str]) -> Any:
    days = parse_id(words[0]) if words else None
    return days if days is not None and days <= MAX_EXTEND_DAYS else BAD


@clinician_handler
async def level(turn: ClinicianTurn) -> None:
    """/level ID 要素 N: set one element's level (回数 3)."""
    s, rt, actor = turn.s, turn.rt, actor_of(turn)
    await _typed(turn, t("control.usage.level"), _level, lambda p, v: controls.set_level(s, rt, p, actor, *v))


@clinician_handler
async def ceiling(turn: ClinicianTurn) -> None:
    """/ceiling ID N|標準: the pain ceiling during exercise (2-6)."""
    s, rt, actor = turn.s, turn.rt, actor_of(turn)
    await _typed(turn, t("control.usage.ceiling"), lambda p, w: _number_or_default(w, state.CEILINGS),
                 lambda p, v: controls.set_ceiling(s, rt, p, actor, v))


@clinician_handler
async def too_painful(turn: ClinicianTurn) -> None:
    """/toopainful ID N|標準: the "too painful to exercise today" rating."""
    s, rt, actor = turn.s, turn.rt, actor_of(turn)
    await _typed(turn, t("control.usage.severe", lo=state.severe_range(rt).start, n=rt.thresholds.severe),
                 lambda p, w: _number_or_default(w, state.severe_range(rt)),
                 lambda p, v: controls.set_severe(s, rt, p, actor, v))


@clinician_handler
async def condition(turn: ClinicianTurn) -> None:
    """/condition ID 膝痛|腰痛|... (or knee / low_back / both)."""
    s, rt, actor = turn.s, turn.rt, actor_of(turn)
    await _typed(turn, t("control.usage.condition"), _condition,
                 lambda p, v: controls.change_condition(s, rt, p, actor, v))


@clinician_handler
async def extend(turn: ClinicianTurn) -> None:
    """/extend ID DAYS (1-60)."""
    s, rt, actor = turn.s, turn.rt, actor_of(turn)
    await _typed(turn, t("control.usage.extend"), _days, lambda p, v: controls.extend(s, rt, p, actor, v))


def _note_command(private: bool):
    async def run(turn: ClinicianTurn) -> None:
        usage = t("control.usage.memo" if private else "control.usage.note")
        p = await _patient_arg(turn, usage)
        if p is None:
            return
        text = _rest(turn, 2)
        if not text or len(text) > controls.NOTE_MAX:
            turn.send(Reply(usage))
            return
        await _answer(turn, p, await controls.note(turn.s, turn.rt, p, actor_of(turn), text, private=private))
    run.__name__ = run.__qualname__ = "memo" if private else "note"
    return clinician_handler(run)


# --- the clinician's next message, asked for by a button -------------------------------------------------

async def staff_text(turn: Turn) -> bool:
    """The text a clinician was asked for (a note, a private note, a reply): taken and answered; False when this
    person was asked for nothing (the text goes its usual way)."""
    s, rt = turn.s, turn.rt
    now = rt.clock.now()
    pending = await audit.pending_input(s, turn.user.id, now - timedelta(minutes=STAFF_INPUT_MINUTES))
    if pending is None:
        return False
    turn.viewer = await clinicians.viewer(s, rt.settings.admin_telegram_ids, turn.user.id)
    text = turn.text.strip()
    if not text or len(text) > controls.NOTE_MAX:
        turn.send(Reply(t("control.text_too_long", n=controls.NOTE_MAX)))
        return True
    await audit.drop_input(s, pending)
    actor = actor_of(turn)
    if pending.action == "reply":
        q = await s.get(PatientQuestion, pending.target)
        p = await s.get(Patient, q.patient_id) if q is not None else None
        if q is None or p is None:
            turn.send(Reply(t("control.gone")))
            return True
        change = await controls.reply(s, rt, p, actor, q, text)
        turn.send(done_reply(rt, p, change) if change is not None else
                  Reply(t("question.already_answered", name=q.answered_name or "")))
        return True
    p = await clinicians.may_see(s, turn.viewer, pending.target) if turn.viewer is not None else None
    if p is None:
        turn.send(Reply(t("control.gone")))
        return True
    turn.send(done_reply(rt, p, await controls.note(s, rt, p, actor, text, private=pending.action == "memo")))
    return True


def register(app: Application) -> None:
    for prefix in CONTROL_FAMILIES:
        app.add_handler(CallbackQueryHandler(on_control, pattern=PATTERNS[prefix]))
    app.add_handler(CommandHandler("clear", clear))
    for name, action in (("pause", "pause"), ("resume", "resume"), ("keep", "keep_paused"),
                         ("stepback", "step_back"), ("hold", "hold"), ("unhold", "unhold"), ("end", "end")):
        app.add_handler(CommandHandler(name, _simple(action)))
    app.add_handler(CommandHandler("level", level))
    app.add_handler(CommandHandler("ceiling", ceiling))
    app.add_handler(CommandHandler("toopainful", too_painful))
    app.add_handler(CommandHandler("condition", condition))
    app.add_handler(CommandHandler("extend", extend))
    app.add_handler(CommandHandler("note", _note_command(False)))
    app.add_handler(CommandHandler("memo", _note_command(True)))
