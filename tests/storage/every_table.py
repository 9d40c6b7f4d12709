"""Rows in every table: some about one person (a patient, by patient id and by Telegram id), some about no
one or about staff. Used by the backup test (a backup holds every row) and the data-rights test (/mydata
exports and /delete erases every row about the person, and nothing else).

A new table fails `check_every_table_has_rows` until a row for it is added here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.storage.models import (
    AuditEntry,
    Clearance,
    Clinician,
    ClinicNote,
    Decision,
    Erasure,
    ExerciseSession,
    HostedMedia,
    Inbox,
    Invite,
    LineUsage,
    LineUser,
    MediaFile,
    Outbox,
    OutcomeAnswer,
    OutcomeRound,
    OutcomeScore,
    Patient,
    PatientQuestion,
    Prompt,
    RedFlagReport,
    Signup,
    StaffInput,
)

WHEN = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
# Tables about clinic staff or about no one (the anonymous erasure count, pictures' file ids): not a patient's data.
NOT_ABOUT_PATIENTS = frozenset({"clinician", "invite", "erasure", "staff_input", "media_file", "line_usage"})
PERSON_COLUMNS = ("patient_id", "telegram_user_id", "user_id", "sender", "chat_id")


def about_a_person(table) -> bool:
    """The test's own reading of the schema: a table with a column referring to a patient or a user."""
    if table.name in NOT_ABOUT_PATIENTS:
        return False
    refers = any(fk.column.table.name == "patient" for c in table.columns for fk in c.foreign_keys)
    return table.name == "patient" or refers or any(c in table.c for c in PERSON_COLUMNS)


async def fill(s, user: int, *, staff: bool = True) -> None:
    """At least one row about `user` in every table about a person; with `staff`, the others too."""
    p = Patient(telegram_user_id=user, chat_id=user, nickname=f"name{user}", condition="knee", usual_pain=3,
                exercise_time="09:00", morning_time="07:00", consent_at=WHEN, enrolled_at=WHEN,
                trial_ends_on=date(2026, 12, 15), raise_history=[])
    s.add(p)
    await s.flush()
    session = ExerciseSession(patient_id=p.id, local_date=date(2026, 12, 1), planned_at=WHEN, status="done",
                              before=2, during=3, after=2, next_morning=1, flags=[], levels={"rom": 1})
    s.add(session)
    await s.flush()
    rnd = OutcomeRound(patient_id=p.id, occasion="baseline", started_at=WHEN, steps=["pain_week:pain"],
                       activities=["階段"])
    s.add(rnd)
    await s.flush()
    s.add_all([
        OutcomeAnswer(round_id=rnd.id, patient_id=p.id, instrument="pain_week", item="pain", value=5,
                      answered_at=WHEN),
        OutcomeScore(round_id=rnd.id, patient_id=p.id, instrument="pain_week", version=1, occasion="baseline",
                     score=5, scored_at=WHEN),
        Signup(telegram_user_id=user, chat_id=user, step="pain", data={"condition": "knee"}, consent_at=WHEN,
               updated_at=WHEN),
        Prompt(patient_id=p.id, session_id=session.id, kind="before", asked_at=WHEN, answered_at=WHEN, answer="2"),
        Decision(patient_id=p.id, session_id=session.id, stage="before", action="hold", reasons=[], message="m",
                 created_at=WHEN),
        RedFlagReport(patient_id=p.id, telegram_user_id=user, source="checkin", flags=["swelling"], created_at=WHEN),
        RedFlagReport(telegram_user_id=user, source="signup", flags=["trauma"], created_at=WHEN),
        Clearance(patient_id=p.id, tier="emergency", flags=["bladder_bowel"], held_at=WHEN, cleared_at=WHEN,
                  cleared_by=9001),
        Outbox(kind="reminder", patient_id=p.id, chat_id=user, due_at=WHEN, dedupe_key=f"reminder:{p.id}:x",
               created_at=WHEN),
        Inbox(update_id=user * 10, telegram_user_id=user, received_at=WHEN,
              update={"update_id": user * 10, "message": {"from": {"id": user}, "text": "5"}}),
        AuditEntry(patient_id=p.id, at=WHEN, actor_user_id=9001, actor_name="先生", action="ceiling", before=None,
                   after=4),
        ClinicNote(patient_id=p.id, kind="private", text=f"note about name{user}", author_user_id=9001,
                   author_name="先生", created_at=WHEN),
        PatientQuestion(patient_id=p.id, text="question", asked_at=WHEN, answered_at=WHEN, answer="answer"),
        Outbox(kind="staff_notice", chat_id=-100, due_at=WHEN, dedupe_key=f"staff:signup_done:{user}:1",
               created_at=WHEN),
    ])
    s.add_all([  # LINE: the person's LINE id and a chart kept for LINE to fetch (bot/line/)
        LineUser(line_user_id=f"U{user:032x}", telegram_user_id=user, created_at=WHEN),
        HostedMedia(token=f"tok{user}", telegram_user_id=user, content_type="image/png", file_name="chart.png",
                    content=b"\x89PNG", created_at=WHEN, expires_at=WHEN + timedelta(days=14)),
    ])
    if staff:  # not about a person: Telegram's id for a picture, the month's LINE pushes
        s.add(LineUsage(month="2026-12", pushes=3))
        s.add(MediaFile(channel="telegram", picture_id="exercise:bridge", content_hash=f"{user:064d}",
                        file_id=f"AgAC{user}", created_at=WHEN))
    if staff:
        s.add_all([
            Erasure(day=date(2026, 11, 1), count=2),
            Clinician(telegram_user_id=user + 10_000, chat_id=user + 10_000, name="先生", link_code=f"code{user}",
                      joined_at=WHEN),
            Invite(code=f"inv{user}", created_by=1, created_at=WHEN, expires_at=WHEN + timedelta(days=3)),
            StaffInput(telegram_user_id=user + 10_000, action="memo", target=p.id, since=WHEN),
        ])
    await s.flush()


async def check_every_table_has_rows(s) -> None:
    for table in SQLModel.metadata.sorted_tables:
        count = await s.scalar(select(func.count()).select_from(table))
        assert count, f"table {table.name} has no row: add one to tests/storage/every_table.py fill()"
