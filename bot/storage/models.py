"""Database tables. The database is the source of truth: everything scheduled is a row.

All timestamps are aware UTC (`bot.clock.Clock.now()`); local dates and "HH:MM" times are the patient's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Identity, Index, Integer, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# Ids are typed `int`, not `int | None`: a row's id is None only between `Model(...)` and the flush that
# inserts it, and the code flushes before it reads one; so what reads the id of a stored row needs no check.


def never_reused_id() -> Any:
    """A primary key whose values are never given again after a delete (AUTOINCREMENT on SQLite, whose
    plain rowid reuses the highest deleted id; an identity column on PostgreSQL), so one id never names two
    people in alerts, exports and logs. The table also needs `NEVER_REUSED` in its table args."""
    return Field(default=None, sa_column=Column(Integer, Identity(), primary_key=True))


NEVER_REUSED = {"sqlite_autoincrement": True}


class Patient(SQLModel, table=True):
    __table_args__ = NEVER_REUSED

    id: int = never_reused_id()
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    nickname: str = Field(max_length=40)
    condition: str = Field(max_length=16)  # rules.CONDITIONS
    usual_pain: int
    timezone: str = Field(default="Asia/Tokyo", max_length=64)
    exercise_time: str = Field(max_length=5)  # "HH:MM", patient's local time
    morning_time: str = Field(max_length=5)
    status: str = Field(default="trial", max_length=16, index=True)  # trial / active / ended
    paused: bool = False
    unreachable: bool = False  # Telegram answered 403: reminders stop until they write again
    awaiting: str | None = Field(default=None, max_length=24)  # free text expected by /settings
    consent_at: datetime
    consent_version: int = 1  # the consent text agreed to (bot/coaching/consent.py)
    enrolled_at: datetime
    trial_ends_on: date
    rom: int = 1
    reps: int = 1
    load: int = 1
    speed: int = 1
    raise_history: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    clinician_id: int | None = Field(default=None, index=True)
    # optional, with its own consent line at signup: a phone number or the clinic's patient number, shown to
    # staff in notices so they can call (issue 10 §5)
    contact: str | None = Field(default=None, max_length=40)
    # set by the clinician (issue 10, the patient card): the pain ceiling during exercise (2-6, rules
    # Case.ceiling), the "too painful to exercise today" rating (rules Thresholds.severe for this patient),
    # and a hold on progression (rules Case.progression_held). None / False: the clinic's defaults.
    ceiling: int | None = None
    severe_threshold: int | None = None
    progression_held: bool = False
    # milestones celebrated once each (first_week, first_raise, ten_sessions: bot/coaching/progress.py)
    milestones: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    # the exercises whose picture the patient has been sent (bot/coaching/plan.py): a new one comes with
    # the next reminder that includes it
    exercises_shown: list[str] = Field(default_factory=list,
                                       sa_column=Column(JSON, nullable=False, server_default=text("'[]'")))
    # fall risk, asked at signup (issue 9): a fall in the last year; unsteady standing up or walking. Either one:
    # the supported variant of every standing exercise (storage.patients.fall_risk; docs/clinical.md)
    falls_last_year: bool = False
    unsteady: bool = False


class Signup(SQLModel, table=True):
    """An enrolment in progress. Created only once the person has consented."""

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    step: str = Field(max_length=24)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    consent_at: datetime
    updated_at: datetime


class ExerciseSession(SQLModel, table=True):
    """One day's exercise for one patient, with its pain ratings (0-10)."""

    __tablename__ = "exercise_session"
    __table_args__ = (UniqueConstraint("patient_id", "local_date"),)

    id: int = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    local_date: date
    planned_at: datetime  # UTC of the reminder time
    status: str = Field(default="planned", max_length=12)  # planned/started/done/skipped/missed/stopped
    started_at: datetime | None = None
    before: int | None = None
    during: int | None = None
    after: int | None = None
    next_morning: int | None = None
    recheck: int | None = None
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    level_change: str | None = Field(default=None, max_length=12)
    levels: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Prompt(SQLModel, table=True):
    """A question put to a patient (a rating, a reminder's choice, a check-in). Buttons carry its id."""

    __table_args__ = (Index("ix_prompt_patient_asked", "patient_id", "asked_at"),)  # weekly summaries

    id: int = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="exercise_session.id")
    kind: str = Field(max_length=16)  # reminder/before/during/after/next_morning/recheck/checkin
    asked_at: datetime
    answered_at: datetime | None = None
    answer: str | None = Field(default=None, max_length=32)
    closed: bool = False  # superseded or expired: answers are refused politely


class Decision(SQLModel, table=True):
    """Every decision taken by rules.decide(), with what it changed."""

    __table_args__ = (Index("ix_decision_patient_created", "patient_id", "created_at"),)  # weekly summaries

    id: int = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="exercise_session.id")
    stage: str = Field(max_length=16)
    action: str = Field(max_length=12)
    element: str | None = Field(default=None, max_length=8)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message: str = Field(max_length=64)
    urgent: bool = False
    levels_before: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    levels_after: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    # what produced it (issue 8): the red-flag catalogue's version, the thresholds' and the program's
    # fingerprints (bot/coaching/safety.py: versions); None for decisions recorded before this was kept
    versions: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Clearance(SQLModel, table=True):
    """An emergency or same-day red flag (or a signup screen "yes") holds the patient's program until a clinician
    or admin clears them (/clear): who and when is recorded here. Held while `cleared_at` is None."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    tier: str = Field(max_length=16)  # rules.Tier of the flag that held them
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    held_at: datetime
    cleared_at: datetime | None = None
    cleared_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # Telegram user id


class RedFlagReport(SQLModel, table=True):
    __tablename__ = "red_flag_report"

    id: int = Field(default=None, primary_key=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    source: str = Field(max_length=12)  # signup / checkin / session
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    created_at: datetime


class Outbox(SQLModel, table=True):
    """Everything the bot sends on its own: due rows -> claimed -> sent (or missed / failed / cancelled).

    `dedupe_key` makes scheduling idempotent: two instances (or a retried handler) scheduling the same
    reminder insert one row. It is unique among live rows (a cancelled row does not block planning the same
    row again) and is built from the key columns by one function (bot/storage/outbox.py:dedupe_key).
    """

    __table_args__ = (
        Index("ix_outbox_due", "state", "due_at"),
        Index("ux_outbox_dedupe_key_live", "dedupe_key", unique=True,
              sqlite_where=text("state != 'cancelled'"), postgresql_where=text("state != 'cancelled'")),
    )

    id: int = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # What the row is about (bot/storage/outbox.py:KEY_COLUMNS); with the kind they make its dedupe key.
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="exercise_session.id")
    clinician_id: int | None = None  # weekly summaries
    telegram_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    local_date: date | None = None  # the local day (or week, or trial period) the row is for
    variant: str | None = Field(default=None, max_length=40)  # e.g. the reminder's time, the alert's event
    due_at: datetime
    state: str = Field(default="pending", max_length=12)  # pending/claimed/sent/done/missed/failed/cancelled
    dedupe_key: str = Field(max_length=120)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime


class Inbox(SQLModel, table=True):
    """Every update from Telegram, committed before Telegram is told it arrived (the next getUpdates offset,
    or the webhook's 200), and marked done by the handler's own transaction (bot/updates.py): a restart
    handles again exactly the rows not done. `update` (the raw update: what the person sent) is cleared
    when done; done rows are deleted once Telegram can no longer send them again."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    telegram_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    update: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    received_at: datetime
    done_at: datetime | None = Field(default=None, index=True)


class MediaFile(SQLModel, table=True):
    """A messenger's id for a picture (or video) it already has (Telegram's file_id after the first upload), so
    a fan-out sends the id instead of the bytes. Keyed by the picture's stable id and its content's hash: a
    changed picture is uploaded once again (bot/media.py)."""

    __tablename__ = "media_file"
    __table_args__ = (UniqueConstraint("channel", "picture_id", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # "telegram"
    picture_id: str = Field(max_length=120)
    content_hash: str = Field(max_length=64)  # sha256 hex of the bytes (of the URL for a picture sent by URL)
    file_id: str = Field(max_length=255)
    created_at: datetime


class Erasure(SQLModel, table=True):
    """After /delete nothing about the person remains: only this anonymous count per day."""

    day: date = Field(primary_key=True)
    count: int = 0


class Clinician(SQLModel, table=True):
    """A clinician (or physiotherapist) who joined with an admin's invite code. Removing one keeps the row
    (`removed_at`) so old alerts and exports still name them; their patients become unassigned."""

    __table_args__ = NEVER_REUSED

    id: int = never_reused_id()
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str = Field(max_length=64)
    link_code: str = Field(max_length=24, unique=True)  # patients' invite link: /start c_<link_code>
    joined_at: datetime
    removed_at: datetime | None = None


class Invite(SQLModel, table=True):
    """A single-use, expiring code an admin gives a clinician (`/clinician CODE`)."""

    code: str = Field(primary_key=True, max_length=24)
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class OutcomeRound(SQLModel, table=True):
    """One sitting of outcome measures (rules/outcomes/*.toml): at signup (`baseline`), every 14 days
    (`followup`) and on the trial's last day (`end`). The questions asked, in order, are `steps`; `step` is the
    one waiting for an answer (buttons carry it: a press for another step is closed)."""

    __tablename__ = "outcome_round"

    id: int = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    occasion: str = Field(max_length=12)  # baseline / followup / end
    started_at: datetime
    finished_at: datetime | None = None
    closed: bool = False  # superseded by the next round, or ended with the program
    step: int = 0
    steps: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    activities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # PSFS, named


class OutcomeAnswer(SQLModel, table=True):
    """One answer of an outcome round (a button pressed, or an activity's rating)."""

    __tablename__ = "outcome_answer"

    id: int = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="outcome_round.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    instrument: str = Field(max_length=24)
    item: str = Field(max_length=24)
    activity: str | None = Field(default=None, max_length=60)  # the activity rated (PSFS)
    value: int
    answered_at: datetime


class OutcomeScore(SQLModel, table=True):
    """An instrument's score in one round, with the instrument's version (summaries compare baseline -> now)."""

    __tablename__ = "outcome_score"
    __table_args__ = (UniqueConstraint("round_id", "instrument"),
                      Index("ix_outcome_score_patient_instrument", "patient_id", "instrument"))

    id: int = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="outcome_round.id")
    patient_id: int = Field(foreign_key="patient.id")
    instrument: str = Field(max_length=24)
    version: int
    occasion: str = Field(max_length=12)
    score: float
    scored_at: datetime
class AuditEntry(SQLModel, table=True):
    """One clinician control on a patient (issue 10): who, when, which patient, what, before -> after
    (bot/coaching/controls.py writes them). A patient's erasure keeps the fact (who did what, when, to
    patient ID n) and drops the content: `before`, `after` and `detail` are emptied and `erased` set
    (bot/storage/patients.py: erase). So `patient_id` has no foreign key: the row outlives the patient."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_patient_at", "patient_id", "at"),)

    id: int = Field(default=None, primary_key=True)
    patient_id: int
    at: datetime
    actor_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # Telegram user id
    actor_name: str = Field(max_length=64)
    action: str = Field(max_length=24)  # bot/coaching/controls.py: ACTIONS
    before: Any = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    detail: int | None = None  # the note or question row an action wrote
    erased: bool = False


class ClinicNote(SQLModel, table=True):
    """A clinician's note about a patient: `private` (on the patient card only) or `to_patient` (sent to the
    patient as a message from the clinic, signed with the clinician's name)."""

    __tablename__ = "clinic_note"

    id: int = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    kind: str = Field(max_length=12)  # private / to_patient
    text: str = Field(max_length=1000)
    author_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    author_name: str = Field(max_length=64)
    created_at: datetime


class PatientQuestion(SQLModel, table=True):
    """A question a patient sent the clinic (「質問する」, /ask) and the clinic's reply."""

    __tablename__ = "patient_question"

    id: int = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    text: str = Field(max_length=1000)
    asked_at: datetime
    answered_at: datetime | None = None
    answer: str | None = Field(default=None, max_length=1000)
    answered_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answered_name: str | None = Field(default=None, max_length=64)


class StaffInput(SQLModel, table=True):
    """What a clinician's (or admin's) next typed message is for, after a button asked for it: a reply to a
    question, a note to a patient, a private note. One at a time per person; expires (STAFF_INPUT_MINUTES)."""

    __tablename__ = "staff_input"

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    action: str = Field(max_length=16)  # reply / note / memo
    target: int  # the question's id (reply) or the patient's id (note, memo)
    since: datetime


class LineUser(SQLModel, table=True):
    """A person on LINE, by LINE's user id ("U" and 32 hex digits), and the number the rest of the bot knows
    them by: `telegram_user_id` = LINE_ID_BASE + `id` (bot/channels.py), above every Telegram id, so every
    table keyed by a messenger's user id serves both channels and the id alone says which channel a person
    uses. `id` is never reused."""

    __tablename__ = "line_user"
    __table_args__ = NEVER_REUSED

    id: int = never_reused_id()
    line_user_id: str = Field(max_length=64, unique=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    created_at: datetime
    blocked_at: datetime | None = None  # the person blocked the account (an unfollow event) and has not come back


class LineUsage(SQLModel, table=True):
    """LINE messages this clinic sent in a month (the clinic's time zone): pushes count against the monthly
    allowance, replies are free (bot/line/quota.py)."""

    __tablename__ = "line_usage"

    month: str = Field(primary_key=True, max_length=7)  # "2026-11"
    pushes: int = 0
    replies: int = 0
    held: int = 0  # pushes not sent because the monthly cap was reached (by priority, in the log)
    warned: int = 0  # how far the clinic was told this month: 1 optional pushes stopped, 2 essential ones


class HostedMedia(SQLModel, table=True):
    """A picture or a file that a LINE message shows: LINE fetches it from the bot's own HTTPS endpoint under an
    unguessable token (bot/line/media.py). Kept until `expires_at`, and erased with its person."""

    __tablename__ = "hosted_media"

    token: str = Field(primary_key=True, max_length=64)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))  # its recipient
    content_type: str = Field(max_length=64)
    file_name: str = Field(max_length=120)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    expires_at: datetime = Field(index=True)
