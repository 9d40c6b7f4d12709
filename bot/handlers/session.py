"""The exercise session: reminder choices (rm:), "ask me now" taps (nx:), 0-10 ratings (rt: or typed),
and /today."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks, coaching
from bot.callbacks import rating_buttons
from bot.coaching import progress
from bot.coaching.messages import Reply, join
from bot.delivery.reminders import buttons as reminder_buttons
from bot.handlers.common import PatientTurn, handler, patient_handler
from bot.i18n import t
from bot.parsing import parse_rating
from bot.runtime import Runtime
from bot.storage import sessions
from bot.storage.models import Patient
from bot.timeplan import local_date


@patient_handler
async def on_reminder(turn: PatientTurn) -> None:
    """rm:<prompt>:now|later|skip"""
    s, rt, p = turn.s, turn.rt, turn.patient
    press = callbacks.ReminderChoice.parse(turn.data)
    reply = None
    if press is not None:
        prompt = await sessions.take_answer(s, press.prompt_id, p.id, press.choice, rt.clock.now(),
                                            kinds=press.prompt_kinds)
        session = await sessions.get(s, prompt.session_id) if prompt and prompt.session_id else None
        if session is not None and session.status == "planned":
            action = {"now": coaching.start_session, "later": coaching.snooze, "skip": coaching.skip}[press.choice]
            reply = await action(s, rt, p, session)
        elif session is not None:
            reply = Reply(t("session.already_started"))
    if reply is None or press is None:
        turn.closed()
        return
    turn.ack(note=t(f"reminder.chose_{press.choice}"))
    turn.send(reply)


@patient_handler
async def on_ask_now(turn: PatientTurn) -> None:
    """nx:<session>:during|after — the patient is ready to rate now."""
    press = callbacks.AskNow.parse(turn.data)
    session = await sessions.get(turn.s, press.session_id) if press is not None else None
    reply = None
    if press is not None and session is not None and session.patient_id == turn.patient.id:
        reply = await coaching.ask_now(turn.s, turn.rt, turn.patient, session, press.which)
    if reply is None or not reply.buttons:
        turn.closed()
        return
    turn.ack()
    turn.send(reply)


async def _rate(s: AsyncSession, rt: Runtime, p: Patient, prompt_id: int, value: int) -> Reply | None:
    prompt = await sessions.take_answer(s, prompt_id, p.id, str(value), rt.clock.now(),
                                        kinds=callbacks.Rating.prompt_kinds)
    if prompt is None:
        return None
    reply = await coaching.answer_rating(s, rt, p, prompt, value)
    if prompt.kind in ("after", "next_morning", "recheck"):  # a session done, a raise: milestones (each once)
        await progress.milestones(s, rt, p)
    return reply


@handler("patient", never_dropped=True)
async def on_rating(turn: PatientTurn) -> None:
    """rt:<prompt>:<0-10> — a tap on the 0-10 keyboard. A double tap stores one answer."""
    press = callbacks.Rating.parse(turn.data)
    reply = await _rate(turn.s, turn.rt, turn.patient, press.prompt_id, press.value) if press else None
    if reply is None or press is None:
        turn.closed()
        return
    turn.ack(note=t("rating.recorded", value=press.value))
    turn.send(reply)


async def on_rating_text(s: AsyncSession, rt: Runtime, p: Patient, text: str) -> Reply:
    """A typed answer (`3`, `３`, `3/10`, `三`) to the newest open rating question."""
    prompt = await sessions.open_rating_prompt(s, p.id, rt.clock.now())
    if prompt is None:
        return Reply(t("common.no_question"))
    value = parse_rating(text) if len(text) <= 20 else None
    if value is None:
        return Reply(join(t("rating.retry"), t(f"ask.{prompt.kind}", nickname=p.nickname)),
                     rating_buttons(prompt.id))
    reply = await _rate(s, rt, p, prompt.id, value)
    return reply if reply is not None else Reply(t("common.closed"))


@patient_handler
async def today(turn: PatientTurn) -> None:
    """/today: today's plan at the current levels, and where today's session stands."""
    s, rt, p = turn.s, turn.rt, turn.patient
    if p.status == "ended":
        turn.send(coaching.patients.ended_reply(p))
        return
    session = await sessions.on_date(s, p.id, local_date(rt.clock.now(), p.timezone))
    status = session.status if session else "none"
    buttons = []
    if coaching.patients.active(p) and status in ("none", "planned"):
        session = session or await coaching.session_for_today(s, rt, p)
        status = session.status  # "planned": the text points to the start button below
        prompt = await sessions.ask(s, patient_id=p.id, kind="reminder", now=rt.clock.now(), session_id=session.id)
        buttons = [[(t("button.start_now"), callbacks.ReminderChoice(prompt.id, "now").data)]]
    state = t(f"today.status.{status}", time=p.exercise_time)
    if p.paused:
        state = coaching.patients.status_text(p)
    how_to = coaching.plan_buttons(p) if not p.paused else []  # paused: the plan to read, nothing to do
    turn.send(Reply(join(t("today.title", nickname=p.nickname), coaching.plan_lines(p), state), [*buttons, *how_to]))


@patient_handler
async def on_how_to(turn: PatientTurn) -> None:
    """hw:<exercise>: 「やり方を見る」: the exercise's picture (and the clinic's video), as new messages (the plan
    stays, with its buttons, for the next one; while the day's reminder is open its choices come again under the
    picture). An exercise the patient's program no longer has: closed."""
    press = turn.pressed_value(callbacks.HowTo.parse)
    if press is None:
        return
    replies = coaching.plan.how_to(turn.patient, press.exercise_id)
    if replies is None:
        turn.closed()
        return
    # the day's choices again under the picture, while the reminder is open: on LINE the tapped quick replies
    # are gone, and on Telegram they are one tap away instead of a scroll up
    p = turn.patient
    session = await sessions.on_date(turn.s, p.id, local_date(turn.rt.clock.now(), p.timezone))
    prompt = await sessions.open_question(turn.s, "reminder", session_id=session.id) if session is not None else None
    if prompt is not None and session is not None and session.status == "planned" and not p.paused:
        replies[-1].buttons = [*reminder_buttons(prompt.id), *coaching.plan_buttons(p)]
    turn.ack(keep_buttons=True)
    turn.send(*replies)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("today", today))
    app.add_handler(CallbackQueryHandler(on_how_to, pattern=callbacks.PATTERNS["hw"]))
    app.add_handler(CallbackQueryHandler(on_reminder, pattern=callbacks.PATTERNS["rm"]))
    app.add_handler(CallbackQueryHandler(on_ask_now, pattern=callbacks.PATTERNS["nx"]))
    app.add_handler(CallbackQueryHandler(on_rating, pattern=callbacks.PATTERNS["rt"]))
