"""Exercise sessions, the questions (prompts) put to patients, and the decisions taken."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select

from bot.storage.models import Decision, ExerciseSession, Patient, Prompt, RedFlagReport

RATING_KINDS = ("before", "during", "after", "next_morning", "recheck")
# A rating answers the question for so long after it was asked: a next-morning rating given that evening
# is still that morning's; the next day it is not (and a stray "3" must not land on an old question).
RATING_ANSWERABLE_FOR = timedelta(hours=18)


def _answerable(now: datetime) -> ColumnElement[bool]:
    return or_(col(Prompt.kind).not_in(RATING_KINDS), Prompt.asked_at >= now - RATING_ANSWERABLE_FOR)


async def get(s: AsyncSession, session_id: int) -> ExerciseSession | None:
    return await s.get(ExerciseSession, session_id)


async def on_date(s: AsyncSession, patient_id: int, local_date: date) -> ExerciseSession | None:
    return await s.scalar(select(ExerciseSession).where(
        ExerciseSession.patient_id == patient_id, ExerciseSession.local_date == local_date))


async def get_or_create(s: AsyncSession, patient_id: int, local_date: date, planned_at: datetime,
                        levels: dict[str, int]) -> ExerciseSession:
    existing = await on_date(s, patient_id, local_date)
    if existing is not None:
        return existing
    row = ExerciseSession(patient_id=patient_id, local_date=local_date, planned_at=planned_at,
                          levels=levels, flags=[])
    s.add(row)
    await s.flush()
    return row


async def recent(s: AsyncSession, patient_id: int, until: date, days: int = 14) -> list[ExerciseSession]:
    """Sessions of the last `days` days up to `until`, oldest first."""
    return list(await s.scalars(
        select(ExerciseSession)
        .where(ExerciseSession.patient_id == patient_id,
               ExerciseSession.local_date > until - timedelta(days=days),
               ExerciseSession.local_date <= until)
        .order_by(col(ExerciseSession.local_date))))


async def ask(s: AsyncSession, *, patient_id: int, kind: str, now: datetime,
              session_id: int | None = None) -> Prompt:
    """Record a question about to be sent; its id goes into the buttons."""
    row = Prompt(patient_id=patient_id, session_id=session_id, kind=kind, asked_at=now)
    s.add(row)
    await s.flush()
    return row


async def take_answer(s: AsyncSession, prompt_id: int, patient_id: int, answer: str, now: datetime, *,
                      kinds: tuple[str, ...]) -> Prompt | None:
    """Claim the answer to an open prompt of this patient, exactly once (a double tap stores one).

    Returns the prompt, or None when it is answered, closed, too old to answer, someone else's, or of
    another kind than `kinds` (a button's value answers only the kind of question it was sent with).
    """
    # One statement claims and reads the row (RETURNING, on SQLite >= 3.35 and PostgreSQL): the answer path
    # is the hottest in the bot (docs/benchmarks.md, CPU per answer).
    prompt = await s.scalar(
        update(Prompt)
        .where(col(Prompt.id) == prompt_id, col(Prompt.patient_id) == patient_id, col(Prompt.kind).in_(kinds),
               col(Prompt.answered_at).is_(None), col(Prompt.closed).is_(False), _answerable(now))
        .values(answered_at=now, answer=answer)
        .returning(Prompt),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    if prompt is not None:
        await close_open(s, patient_id=patient_id, session_id=prompt.session_id, kinds=(prompt.kind,))
    return prompt


async def is_open(s: AsyncSession, prompt_id: int, patient_id: int, now: datetime, *,
                  kinds: tuple[str, ...]) -> bool:
    """This patient's question of one of these kinds, unanswered, not closed and still answerable."""
    return await s.scalar(select(Prompt.id).where(
        Prompt.id == prompt_id, Prompt.patient_id == patient_id, col(Prompt.kind).in_(kinds),
        col(Prompt.answered_at).is_(None), col(Prompt.closed).is_(False), _answerable(now))) is not None


async def close_open(s: AsyncSession, *, patient_id: int, session_id: int | None = None,
                     kinds: tuple[str, ...] | None = None) -> None:
    conds = [col(Prompt.patient_id) == patient_id, col(Prompt.answered_at).is_(None), col(Prompt.closed).is_(False)]
    if session_id is not None:
        conds.append(col(Prompt.session_id) == session_id)
    if kinds:
        conds.append(col(Prompt.kind).in_(kinds))
    await s.execute(update(Prompt).where(*conds).values(closed=True))


async def open_rating_prompt(s: AsyncSession, patient_id: int, now: datetime) -> Prompt | None:
    """The newest unanswered rating question still answerable: what a typed number answers."""
    return await s.scalar(
        select(Prompt)
        .where(Prompt.patient_id == patient_id, col(Prompt.kind).in_(RATING_KINDS),
               col(Prompt.answered_at).is_(None), col(Prompt.closed).is_(False), _answerable(now))
        .order_by(col(Prompt.id).desc())
        .limit(1))


async def open_question(s: AsyncSession, kind: str, *, session_id: int | None = None,
                        patient_id: int | None = None) -> Prompt | None:
    """The newest unanswered question of this kind of a session (a reminder's) or of a patient (the trial's end,
    which belongs to no session), if any."""
    about = Prompt.session_id == session_id if session_id is not None else Prompt.patient_id == patient_id
    return await s.scalar(select(Prompt).where(
        about, Prompt.kind == kind,
        col(Prompt.answered_at).is_(None), col(Prompt.closed).is_(False)).order_by(col(Prompt.id).desc()).limit(1))


async def has_open(s: AsyncSession, session_id: int, kind: str) -> bool:
    return await open_question(s, kind, session_id=session_id) is not None


async def minimum_alerted(s: AsyncSession, patient_id: int) -> bool:
    """Was a step back at the minimum decided (and the clinic told) with no level change since? The newest
    decision that hit the minimum or changed a level tells (decisions of the last 50)."""
    rows = await s.execute(select(col(Decision.element), col(Decision.reasons))
                           .where(col(Decision.patient_id) == patient_id).order_by(col(Decision.id).desc()).limit(50))
    for element, reasons in rows:
        if "step_back_at_minimum" in reasons:
            return True
        if element is not None:  # a level changed since
            return False
    return False


def record_decision(s: AsyncSession, **fields) -> Decision:
    row = Decision(**fields)
    s.add(row)
    return row


async def link_signup_reports(s: AsyncSession, p: Patient) -> None:
    """The red flags this person answered during signup become the enrolled patient's (alerts read them)."""
    await s.execute(update(RedFlagReport).where(col(RedFlagReport.telegram_user_id) == p.telegram_user_id,
                                                col(RedFlagReport.patient_id).is_(None)).values(patient_id=p.id))


def record_red_flags(s: AsyncSession, **fields) -> RedFlagReport:
    row = RedFlagReport(**fields)
    s.add(row)
    return row
