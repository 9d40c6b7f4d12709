"""「質問する」 (issue 10 §2): a patient's question to the clinic, relayed to their clinician (else the staff chat
or the admins) with a 「返信する」 button; the reply goes back in the bot's voice (coaching/controls.reply, a
`clinic_notice`). A question still unanswered after ANSWER_WITHIN is sent again to the staff chat and the admins
(`question_overdue`) and listed at the top of the weekly summary (`unanswered`).

The symptom detector runs first (handlers/questions.py): numbness or bladder words open the red-flag check-in at
once; the question is still passed on, but the patient never waits for a reply to be safe.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import open_hours
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import audit, outbox
from bot.storage.models import Patient, PatientQuestion
from bot.timeplan import local_date

ANSWER_WITHIN = timedelta(hours=24)  # unanswered longer: to the admins, and on top of the weekly summary
QUESTION_MAX = 1000


async def ask(s: AsyncSession, rt: Runtime, p: Patient, text: str) -> PatientQuestion:
    """Store the question and plan its relay now and its re-sending after ANSWER_WITHIN (skipped if answered)."""
    now = rt.clock.now()
    p.awaiting = None
    q = await audit.add_question(s, patient_id=p.id, text=text, now=now)
    for kind, due in (("question", now), ("question_overdue", now + ANSWER_WITHIN)):
        await outbox.schedule(s, kind=kind, due_at=due, now=now, patient_id=p.id, variant=str(q.id),
                              payload={"question_id": q.id})
    return q


def next_opening(rt: Runtime, now: datetime) -> datetime | None:
    """When staff next answer questions (CLINIC_OPEN_HOURS), or None when open now or the hours are not set."""
    hours = open_hours(rt.settings.clinic_open_hours)
    if not hours:
        return None
    zone = rt.settings.tz
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    if any(start <= minute < end for start, end in hours.get(local.weekday(), [])):
        return None
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        starts = sorted(start for start, _ in hours.get(day.weekday(), []) if ahead or start > minute)
        if starts:
            return datetime(day.year, day.month, day.day, starts[0] // 60, starts[0] % 60, tzinfo=zone)
    return None


def sent_text(rt: Runtime) -> str:
    """What the patient hears once the question is on its way: soon, or from when (outside the clinic's hours)."""
    opening = next_opening(rt, rt.clock.now())
    if opening is None:
        return t("question.sent")
    weekdays = t("report.weekdays").split(",")
    day = local_date(opening, rt.settings.clinic_timezone)
    return t("question.sent_closed", when=f"{day.month}/{day.day}({weekdays[day.weekday()]}) {opening:%H:%M}")


async def unanswered(s: AsyncSession, rt: Runtime, clinician_id: int | None
                     ) -> list[tuple[int, int, str, datetime, str]]:
    """Questions unanswered for ANSWER_WITHIN or longer, of this clinician's patients (None: every patient):
    (question id, patient id, nickname, asked at, text), oldest first. The weekly summary lists them first."""
    return await audit.unanswered(s, clinician_id, rt.clock.now() - ANSWER_WITHIN)
