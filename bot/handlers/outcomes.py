"""Outcome measures (om:<round>:<step>:<value>): each answer stored, the next question or the results
(bot/coaching/outcomes.py). Typed activities (PSFS) come through handlers/start.py:on_text. The end-of-trial
report's buttons (ap:<prompt>:book|self|<time>: bot/coaching/progress.py)."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import PATTERNS, Booking, OutcomeAnswer
from bot.coaching import outcomes, progress
from bot.coaching.messages import Reply
from bot.handlers.common import PatientTurn, patient_handler
from bot.i18n import t


def _answer(turn: PatientTurn, replies: list[Reply] | None, note: str | None) -> None:
    """A stale or forged press (None) is closed; else the press is marked with `note` and answered."""
    if replies is None:
        turn.closed()
        return
    turn.ack(note=note)
    turn.send(*replies)


@patient_handler
async def on_answer(turn: PatientTurn) -> None:
    if (press := turn.pressed_value(OutcomeAnswer.parse)) is not None:
        _answer(turn, await outcomes.answer(turn.s, turn.rt, turn.patient, press),
                t("outcome.recorded") if press.value is not None else None)


@patient_handler
async def on_booking(turn: PatientTurn) -> None:
    if (press := turn.pressed_value(Booking.parse)) is not None:
        reply = await progress.booking(turn.s, turn.rt, turn.patient, press)
        _answer(turn, [reply] if reply else None,
                t(f"booking.chose.{'time' if press.choice in Booking.TIMES else press.choice}"))


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_answer, pattern=PATTERNS["om"]))
    app.add_handler(CallbackQueryHandler(on_booking, pattern=PATTERNS["ap"]))
