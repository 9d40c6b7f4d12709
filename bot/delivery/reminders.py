"""Daily reminders, prepared a batch at a time.

Everyone tends to choose 07:00 or 19:00, so thousands of reminders fall due in the same minute. Preparing
them row by row costs about a dozen SQL statements each; here one batch costs a handful of set-based
statements whatever its size: load the patients, create and load the day's sessions, insert the reminder
questions (their ids go into the buttons), schedule tomorrow's reminders and the repeats. (Core inserts:
the ORM would insert sessions and prompts one row at a time to learn their ids in order.)
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot import coaching
from bot.callbacks import ReminderChoice
from bot.coaching import lessons
from bot.coaching.messages import Reply, join
from bot.delivery.registry import Prepared, nothing, prepares_batch
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import outbox, patients
from bot.storage.db import insert_for
from bot.storage.models import ExerciseSession, Outbox, Patient, Prompt
from bot.timeplan import at_local, next_at


def buttons(prompt_id: int) -> list[list[tuple[str, str]]]:
    return [[(t("button.start_now"), ReminderChoice(prompt_id, "now").data)],
            [(t("button.later", minutes=30), ReminderChoice(prompt_id, "later").data),
             (t("button.skip"), ReminderChoice(prompt_id, "skip").data)]]


async def _insert(s: AsyncSession, table, unique: list[str], values: list[dict]) -> None:
    """Insert many rows in one statement, skipping those that clash on `unique`."""
    if not values:
        return
    await s.execute(insert_for(s, table).on_conflict_do_nothing(index_elements=unique), values)


@prepares_batch("reminder")
async def prepare(s: AsyncSession, rt: Runtime, rows: list[Outbox]) -> dict[int, Prepared]:
    """For each reminder row what it becomes. Runs in the caller's transaction."""
    now = rt.clock.now()
    by_id: dict[int | None, Patient] = {p.id: p for p in await s.scalars(  # keyed as Outbox.patient_id is
        select(Patient).where(col(Patient.id).in_({r.patient_id for r in rows})))}
    live = [r for r in rows if coaching.patients.active(by_id.get(r.patient_id))]
    live_ids = {r.id for r in live}  # by id: model objects compare field by field (slow, and not identity)
    result: dict[int, Prepared] = {r.id: nothing() for r in rows if r.id not in live_ids}
    if not live:
        return result

    # the day's sessions: create the missing ones (a concurrent /today may have made one), then load all
    keys = {(r.patient_id, date.fromisoformat(r.payload["day"])) for r in live}
    await _insert(s, ExerciseSession, ["patient_id", "local_date"], [dict(
        patient_id=pid, local_date=day, planned_at=at_local(day, by_id[pid].exercise_time, by_id[pid].timezone),
        status="planned", flags=[], levels={str(k): v for k, v in patients.levels(by_id[pid]).items()})
        for pid, day in keys])
    sessions: dict[tuple[int | None, date], ExerciseSession] = {
        (x.patient_id, x.local_date): x for x in await s.scalars(select(ExerciseSession).where(
            tuple_(ExerciseSession.patient_id, ExerciseSession.local_date).in_(keys)))}

    # tomorrow's reminders: the daily chain moves on whatever happens to today's
    chain = []
    for r in live:
        p = by_id[r.patient_id]
        chain.append(coaching.reminder_row(p, next_at(r.due_at + timedelta(minutes=1), p.exercise_time, p.timezone)))
    await outbox.schedule_many(s, chain, now=now)

    # the reminder questions, one multi-row INSERT ... RETURNING (keyed by session: one per session here)
    asking: list[Outbox] = []
    for r in live:
        session = sessions[(r.patient_id, date.fromisoformat(r.payload["day"]))]
        r.session_id = session.id
        if session.status != "planned":
            result[r.id] = nothing()
        elif r.payload.get("prompt_id") is None:  # a retried row reuses the question it recorded
            asking.append(r)
    if asking:
        made = await s.execute(insert(Prompt).returning(col(Prompt.id), col(Prompt.session_id)), [dict(
            patient_id=r.patient_id, session_id=r.session_id, kind="reminder", asked_at=now, closed=False)
            for r in asking])
        prompt_of = {session_id: prompt_id for prompt_id, session_id in made.all()}
        for r in asking:
            r.payload = {**r.payload, "prompt_id": prompt_of[r.session_id]}

    lesson_of = await _lessons(s, rt, [by_id[r.patient_id] for r in live if r.id not in result])
    follow = []
    for r in live:
        if r.id in result:
            continue
        p = by_id[r.patient_id]
        assert r.session_id is not None  # set to the day's session above
        follow.append(coaching.reminder_follow_up(rt, p, r.session_id, n=0, after_row=r.id, now=now))
        text = join(t("reminder.text", nickname=p.nickname), coaching.plan_lines(p))
        reminder = Reply(text, [*buttons(r.payload["prompt_id"]), *coaching.plan_buttons(p)])
        n = lesson_of.get(p.id)
        # the lesson and the pictures of exercises new to the patient first: a batch's buttons go on its last
        # message (the messaging port's rule)
        before = ([lessons.lesson(rt, n)] if n else []) + coaching.plan.new_pictures(p)
        result[r.id] = Prepared([(p.chat_id, reply) for reply in (*before, reminder)])
    await outbox.schedule_many(s, follow, now=now)
    return result


async def _lessons(s: AsyncSession, rt: Runtime, people: list[Patient]) -> dict[int, int]:
    """Patient id -> the lesson that goes with today's reminder: the n-th day with a session in this trial
    period gets lesson n (bot/coaching/lessons.py). Only patients in a trial period (at most TRIAL_DAYS of
    sessions each); one statement for the batch."""
    first_day = {p.id: p.trial_ends_on - timedelta(days=rt.settings.trial_days) for p in people
                 if p.status == "trial" and p.id is not None}
    if not first_day:
        return {}
    days: dict[int, int] = {}
    for pid, day in (await s.execute(
            select(col(ExerciseSession.patient_id), col(ExerciseSession.local_date))
            .where(col(ExerciseSession.patient_id).in_(first_day),
                   ExerciseSession.local_date >= min(first_day.values())))).all():
        if day >= first_day[pid]:
            days[pid] = days.get(pid, 0) + 1
    return {pid: n for pid, count in days.items() if (n := lessons.for_reminder(count)) is not None}
