"""/start, /help, /privacy, /why, and everything that is not a command we know: text is routed to the enrolment,
/settings input or the open rating question; stickers, photos and unknown commands get a kind hint."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks, coaching
from bot.callbacks import Lesson, Trial
from bot.coaching import lessons
from bot.coaching import outcomes as outcome_measures
from bot.coaching.messages import Reply, join
from bot.handlers import checkin, controls, patient_settings, questions, session, signup
from bot.handlers.common import Turn, handler, reads_or_erases
from bot.i18n import t
from bot.parsing import parse_rating
from bot.storage import clinicians, patients
from rules import detect_symptoms

MAX_TEXT = 500


@reads_or_erases
async def start(turn: Turn) -> None:
    s, p = turn.s, turn.patient
    sign = await patients.signup_of(s, turn.user.id) if p is None else None
    if p is not None and p.status == "ended":
        turn.send(coaching.patients.ended_reply(p))
    elif p is not None:
        turn.send(Reply(join(t("start.patient", nickname=p.nickname), coaching.patients.status_text(p),
                             coaching.plan_lines(p)), coaching.plan_buttons(p)))
    elif sign is not None:
        q = signup.question(sign)
        turn.send(Reply(join(t("signup.resume"), q.text), q.buttons))
    else:
        # a clinician's invite link (/start c_<code>): the trial button carries that clinician
        code = turn.args[0][2:] if turn.args and turn.args[0].startswith("c_") else None
        c = await turn.invite(lambda: clinicians.by_link_code(s, code[:24])) if code else None
        if turn.waiting:
            return
        turn.send(Reply(t("start.welcome"), [[(t("button.trial"), Trial(c.link_code if c else None).data)]]))


@reads_or_erases
async def help_(turn: Turn) -> None:
    turn.send(Reply(t("help.text")))


@reads_or_erases
async def privacy(turn: Turn) -> None:
    """/privacy: the clinic's privacy promise (docs/operations.md), with the retention period."""
    turn.send(Reply(t("privacy.promise", days=turn.rt.settings.retention_days_after_end)))


@reads_or_erases
async def why(turn: Turn) -> None:
    """/why: the seven lessons, one button each."""
    turn.send(lessons.listing())


@reads_or_erases
async def on_lesson(turn: Turn) -> None:
    """ls:<n>: one lesson, sent as a new message (the list stays for the next one)."""
    press = turn.pressed_value(Lesson.parse)
    if press is None:
        return
    turn.ack(keep_buttons=True)
    turn.send(lessons.lesson(turn.rt, press.n))


def _typed_rating(update: Update) -> bool:
    """A typed number answers a rating question: never dropped by throttling."""
    msg = update.effective_message
    text = (msg.text or "") if msg is not None else ""
    return len(text) <= 20 and parse_rating(text) is not None


@handler("anyone", never_dropped=_typed_rating)
async def on_text(turn: Turn) -> None:
    """Typed text: enrolment step, /settings input, symptom words (the red-flag check-in opens), or a rating;
    anything else gets a kind hint."""
    s, rt, text = turn.s, turn.rt, turn.text
    sign = await patients.signup_of(s, turn.user.id)
    p = turn.patient if sign is None else None
    if await controls.staff_text(turn):  # a note or reply a clinician's button asked for
        pass
    elif len(text) > MAX_TEXT:
        turn.send(Reply(t("common.too_long")))
    elif sign is not None:
        turn.send(await signup.on_text(s, rt, sign, text))
    elif p is None:
        turn.not_enrolled()
    elif p.awaiting == outcome_measures.AWAITING:  # an activity named for an outcome measure (PSFS)
        turn.send(*await outcome_measures.on_text(s, rt, p, text))
    elif p.awaiting == questions.AWAITING:  # the question after /ask (the symptom detector runs first there)
        turn.send(await questions.on_text(s, rt, p, text))
    elif p.awaiting:
        turn.send(await patient_settings.on_text(s, rt, p, text))
    elif coaching.patients.enrolled(p) and (items := detect_symptoms(text)):  # 「今日は足がしびれています」
        turn.send(await checkin.heard(s, rt, p, items))  # the check-in
    elif (answered := await patient_settings.trial_text(s, rt, p, text)) is not None:  # 「続ける」 typed
        turn.send(answered)
    else:
        turn.send(await session.on_rating_text(s, rt, p, text))


@reads_or_erases
async def on_other(turn: Turn) -> None:
    """Stickers, photos, voice, files...: we can only read buttons and short text."""
    turn.send(Reply(t("common.not_text")))


@reads_or_erases
async def on_unknown_command(turn: Turn) -> None:
    turn.send(Reply(t("common.unknown_command")))


@reads_or_erases
async def on_stale_button(turn: Turn) -> None:
    """Any button no feature took: an old or forged press."""
    turn.closed()


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_))
    app.add_handler(CommandHandler("privacy", privacy))
    app.add_handler(CommandHandler("why", why))
    app.add_handler(CallbackQueryHandler(on_lesson, pattern=callbacks.PATTERNS["ls"]))


def register_fallbacks(app: Application) -> None:
    """Registered last: they catch what no feature handler took."""
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL, on_other))
