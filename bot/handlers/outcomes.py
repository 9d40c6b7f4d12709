"""Outcome measures (om:<round>:<step>:<value>): each answer stored, the next question or the results
(bot/coaching/outcomes.py). Typed activities (PSFS) come through handlers/start.py:on_text."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import PATTERNS, OutcomeAnswer
from bot.coaching import outcomes
from bot.handlers.common import PatientTurn, patient_handler
from bot.i18n import t


@patient_handler
async def on_answer(turn: PatientTurn) -> None:
    press = turn.pressed_value(OutcomeAnswer.parse)
    if press is None:
        return
    replies = await outcomes.answer(turn.s, turn.rt, turn.patient, press)
    if replies is None:
        turn.closed()
        return
    turn.ack(note=t("outcome.recorded") if press.value is not None else None)
    turn.send(*replies)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_answer, pattern=PATTERNS["om"]))
