"""「質問する」 (issue 10 §2): /ask and the 質問する button (ask) let a patient write one question for the clinic;
返信する under a relayed question (qa:<question>) and /reply Q text let the clinician answer it
(bot/coaching/questions.py; the reply is recorded and sent through coaching/controls.reply)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import PATTERNS, ReplyQuestion
from bot.coaching import controls, questions, safety
from bot.coaching import patients as patient_state
from bot.coaching.messages import Reply, join
from bot.handlers import checkin
from bot.handlers.common import ClinicianTurn, PatientTurn, Turn, clinician_handler, handler, patient_handler
from bot.handlers.controls import STAFF_INPUT_MINUTES, _rest, actor_of, done_reply
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import audit, clinicians
from bot.storage.models import Patient, PatientQuestion
from rules import detect_symptoms

AWAITING = "question"  # patient.awaiting while their next message is a question


@patient_handler
async def ask(turn: PatientTurn) -> None:
    """/ask, or 質問する: the next message is the question."""
    p = turn.patient
    if turn.pressed:
        turn.ack(keep_buttons=True)
    if not patient_state.enrolled(p):
        turn.send(Reply(t("question.ended", **safety.contact(turn.rt))))
        return
    p.awaiting = AWAITING
    turn.send(Reply(t("question.ask", nickname=p.nickname)))


async def on_text(s: AsyncSession, rt: Runtime, p: Patient, text: str) -> Reply:
    """The question typed after /ask: the symptom detector first (the red-flag check-in opens at once; the
    question is passed on too), then stored and relayed; the patient is told when to expect the answer."""
    items = detect_symptoms(text)
    await questions.ask(s, rt, p, text.strip())
    if items:
        heard = await checkin.heard(s, rt, p, items)
        return Reply(join(heard.text, t("question.also_sent")), heard.buttons, priority=heard.priority)
    return Reply(questions.sent_text(rt))


async def _question(turn: Turn, question_id: int) -> tuple[PatientQuestion, Patient] | None:
    """The question and its patient when this person may answer it: the patient's clinician or an admin, or
    anyone in the staff chat (where questions of unassigned patients go)."""
    s, rt = turn.s, turn.rt
    q = await s.get(PatientQuestion, question_id)
    p = await s.get(Patient, q.patient_id) if q is not None else None
    if q is None or p is None:
        return None
    turn.viewer = turn.viewer or await clinicians.viewer(s, rt.settings.admin_telegram_ids, turn.user.id)
    if turn.in_staff_chat or (turn.viewer is not None and await clinicians.may_see(s, turn.viewer, p.id)):
        return q, p
    return None


@handler("anyone", staff_chat=True, stores=False)
async def on_reply_button(turn: Turn) -> None:
    """qa:<question> — 返信する: the presser's next private message is the reply."""
    press = turn.pressed_value(ReplyQuestion.parse)
    if press is None:
        return
    found = await _question(turn, press.n)
    if found is None:
        turn.refuse()
        return
    q, p = found
    if q.answered_at is not None:
        turn.notice(t("question.already_answered", name=q.answered_name or ""))
        return
    await audit.expect_input(turn.s, turn.user.id, "reply", q.id, turn.rt.clock.now())
    turn.ack(t("clinic.sent_privately") if turn.in_staff_chat else None, keep_buttons=True)
    turn.send(Reply(t("question.reply_prompt", nickname=p.nickname, question=q.text[:200],
                      minutes=STAFF_INPUT_MINUTES)))


@clinician_handler
async def reply(turn: ClinicianTurn) -> None:
    """/reply Q text: answer question Q (the number in the relayed question)."""
    qid = turn.id_argument(t("question.usage"))
    if qid is None:
        return
    found = await _question(turn, qid)
    if found is None:
        turn.refuse()
        return
    q, p = found
    text = _rest(turn, 2)
    if not text or len(text) > controls.NOTE_MAX:
        turn.send(Reply(t("question.usage")))
        return
    change = await controls.reply(turn.s, turn.rt, p, actor_of(turn), q, text)
    turn.send(done_reply(turn.rt, p, change) if change is not None else
              Reply(t("question.already_answered", name=q.answered_name or "")))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("ask", ask))
    app.add_handler(CallbackQueryHandler(ask, pattern=PATTERNS["ask"]))
    app.add_handler(CallbackQueryHandler(on_reply_button, pattern=PATTERNS["qa"]))
    app.add_handler(CommandHandler("reply", reply))
