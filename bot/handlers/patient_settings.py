"""/settings (times, pause/resume, condition, ending), the end-of-trial answer (tr:) and re-joining (rj:).

Ending asks for confirmation first (st:end -> st:end:yes, tr:<prompt>:end -> tr:<prompt>:endyes)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks, coaching
from bot.coaching import outcomes, progress, safety
from bot.coaching import patients as patient_state
from bot.coaching.messages import Reply, join
from bot.handlers.common import PatientTurn, patient_handler
from bot.handlers.signup import EXERCISE_TIMES, MORNING_TIMES
from bot.i18n import t
from bot.parsing import parse_time, parse_trial_answer
from bot.runtime import Runtime
from bot.storage import sessions
from bot.storage.models import Patient
from rules import CONDITIONS

FIELDS = {"time": "exercise_time", "morning": "morning_time"}


def menu(p: Patient) -> Reply:
    state = t("settings.paused") if p.paused else t("settings.running")
    text = t("settings.menu", time=p.exercise_time, morning=p.morning_time,
             condition=t(f"condition.{p.condition}"), state=state)
    pause = (t("button.resume"), callbacks.Setting("resume").data) if p.paused else (
        t("button.pause"), callbacks.Setting("pause").data)
    return Reply(text, [[(t("button.change_time"), callbacks.Setting("time").data)],
                        [(t("button.change_morning"), callbacks.Setting("morning").data)],
                        [pause], [(t("button.change_condition"), callbacks.Setting("cond").data)],
                        [(t("button.ask"), callbacks.AskQuestion().data)],
                        [(t("button.end_program"), callbacks.Setting("end").data)]])


def confirm_end(p: Patient, yes: str, no: str) -> Reply:
    return Reply(t("end.confirm", nickname=p.nickname),
                 [[(t("button.end_confirm"), yes)], [(t("button.keep_going"), no)]])


@patient_handler
async def settings(turn: PatientTurn) -> None:
    p = turn.patient
    p.awaiting = None
    turn.send(menu(p) if patient_state.enrolled(p) else patient_state.ended_reply(p))


async def _set_time(s: AsyncSession, rt: Runtime, p: Patient, field: str, value: str) -> Reply:
    await patient_state.change_time(s, rt, p, field, value)
    return Reply(t(f"settings.saved_{field}", time=value))


async def on_text(s: AsyncSession, rt: Runtime, p: Patient, text: str) -> Reply:
    """Typed time after st:time / st:morning."""
    value = parse_time(text)
    if value is None:
        return Reply(t("signup.time_retry"))
    assert p.awaiting is not None  # start.on_text routes typed text here only while a setting awaits it
    return await _set_time(s, rt, p, p.awaiting, value)


@patient_handler
async def on_button(turn: PatientTurn) -> None:
    press = callbacks.Setting.parse(turn.data)
    reply = await _apply(turn.s, turn.rt, turn.patient, press.what, press.value or None) if press else None
    if reply is None:
        turn.closed()
        return
    turn.ack()
    turn.send(reply)


async def _apply(s: AsyncSession, rt: Runtime, p: Patient, what: str, value: str | None) -> Reply | None:
    if not patient_state.enrolled(p):
        return None
    match what, value:
        case ("time" | "morning"), None:
            p.awaiting = FIELDS[what]
            times = EXERCISE_TIMES if what == "time" else MORNING_TIMES
            buttons = [(tm, callbacks.Setting(what, callbacks.hhmm(tm)).data) for tm in times]
            return Reply(t(f"settings.ask_{what}"), [buttons[i:i + 3] for i in range(0, len(buttons), 3)])
        case ("time" | "morning"), str() if (tm := parse_time(callbacks.from_hhmm(value))) is not None:
            return await _set_time(s, rt, p, FIELDS[what], tm)
        case "pause", None if await patient_state.pause(s, rt, p):
            return Reply(t("settings.paused_now"))
        case "resume", None if await safety.open_hold(s, p) is not None:
            return Reply(safety.held_text(rt), priority="safety")  # a clinician clears them, not the patient
        case "resume", None if await patient_state.resume(s, rt, p):
            return Reply(t("settings.resumed", time=p.exercise_time))
        case "cond", None:
            return Reply(t("settings.ask_condition"), [[(t(f"condition.{c}"), callbacks.Setting("cond", c).data)]
                                                             for c in CONDITIONS])
        case "cond", str() if await patient_state.change_condition(s, rt, p, value):
            return Reply(join(t("settings.saved_condition", condition=t(f"condition.{value}")),
                              coaching.plan_lines(p)), coaching.plan_buttons(p))
        case "end", None:
            return confirm_end(p, callbacks.Setting("end", "yes").data, callbacks.Setting("end", "no").data)
        case "end", "yes" if await patient_state.end(s, rt, p):
            return Reply(t("trial.ended_by_patient", nickname=p.nickname))
        case "end", "no":
            return Reply(t("end.kept"))
    return None


@patient_handler
async def on_trial_answer(turn: PatientTurn) -> None:
    """tr:<prompt>:continue|end|endyes — the question sent near the end of the trial; `end` asks first
    (the question stays open until confirmed)."""
    s, rt, p = turn.s, turn.rt, turn.patient
    press = callbacks.TrialAnswer.parse(turn.data)
    reply = None
    if press is not None and p.status == "trial":
        if press.choice == "end":
            if await sessions.is_open(s, press.prompt_id, p.id, rt.clock.now(), kinds=press.prompt_kinds):
                reply = confirm_end(p, callbacks.TrialAnswer(press.prompt_id, "endyes").data,
                                    callbacks.TrialAnswer(press.prompt_id, "continue").data)
        elif await sessions.take_answer(s, press.prompt_id, p.id, press.choice, rt.clock.now(),
                                        kinds=press.prompt_kinds) is not None:
            if press.choice == "continue":
                await patient_state.continue_trial(s, rt, p)
                reply = Reply(t("trial.continued", nickname=p.nickname))
            else:
                await patient_state.end(s, rt, p)
                reply = Reply(t("trial.ended_by_patient", nickname=p.nickname))
    if reply is None:
        turn.closed()
        return
    turn.ack()
    turn.send(reply)


async def trial_text(s: AsyncSession, rt: Runtime, p: Patient, text: str) -> Reply | None:
    """The end-of-trial question answered by typing 「続ける」 or 「終了」 (on LINE its quick replies are gone once
    another message came): as the buttons do, ending asks first. None when there is no such question open or the
    text is not one of those words."""
    choice = parse_trial_answer(text)
    prompt = await sessions.open_question(s, "trial", patient_id=p.id) if choice and p.status == "trial" else None
    if prompt is None:
        return None
    if choice == "end":
        return confirm_end(p, callbacks.TrialAnswer(prompt.id, "endyes").data,
                           callbacks.TrialAnswer(prompt.id, "continue").data)
    if await sessions.take_answer(s, prompt.id, p.id, "continue", rt.clock.now(), kinds=("trial",)) is None:
        return None
    await patient_state.continue_trial(s, rt, p)
    return Reply(t("trial.continued", nickname=p.nickname))


@patient_handler
async def on_rejoin(turn: PatientTurn) -> None:
    """rj:start (or /trial after the end) -> the safety check -> rj:ok starts a new trial period; rj:flag
    points to the clinic first and changes nothing."""
    s, rt, p = turn.s, turn.rt, turn.patient
    press = callbacks.Rejoin.parse(turn.data)
    reply = None
    more: list[Reply] = []
    if press is None or p.status != "ended":
        pass
    elif press.step == "start":
        reply = rejoin_check()
    elif press.step == "flag":
        reply = Reply(t("rejoin.red_flag", **safety.contact(rt)), priority="safety")
    elif await patient_state.rejoin(s, rt, p):
        reply = Reply(join(t("rejoin.welcome", nickname=p.nickname, end=p.trial_ends_on.strftime("%m/%d"),
                             time=p.exercise_time, per_week=rt.settings.trial_target_per_week),
                           coaching.plan_lines(p)))
        await progress.begin(s, rt, p)  # a new trial period: its weekly and end-of-trial reports
        more = await outcomes.begin(s, rt, p)  # and its baseline outcome measures (buttons on the last message)
        if not more:  # buttons go on the last message: the plan's when no questions follow
            reply.buttons = coaching.plan_buttons(p)
    if reply is None:
        turn.closed()
        return
    turn.ack()
    turn.send(reply, *more)


def rejoin_check() -> Reply:
    return patient_state.safety_check(callbacks.Rejoin("ok").data, callbacks.Rejoin("flag").data)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("settings", settings))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.PATTERNS["st"]))
    app.add_handler(CallbackQueryHandler(on_trial_answer, pattern=callbacks.PATTERNS["tr"]))
    app.add_handler(CallbackQueryHandler(on_rejoin, pattern=callbacks.PATTERNS["rj"]))
