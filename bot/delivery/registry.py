"""One registry of the kinds of due rows (the outbox): for each kind, in one line, how late it may still be
sent (the catch-up policy), whether a pause or the end of the program cancels it, the columns that make a
row of it unique (its dedupe key: bot/storage/outbox.py:dedupe_key) and how it is prepared.

The preparations live beside what they need (bot/delivery/kinds.py row by row, bot/delivery/reminders.py
a batch at a time) and attach themselves with `@prepares(kind)` / `@prepares_batch(kind)`; a test checks
every kind has one. This module imports nothing of coaching, so coaching can ask it what a pause cancels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.storage import outbox
from bot.storage.models import Outbox

if TYPE_CHECKING:  # coaching imports this module (what a pause cancels): no import back at run time
    from bot.coaching.messages import Reply


@dataclass
class Prepared:
    """What a due row becomes: the messages to send, or the row's final state when there is nothing to send."""

    messages: list[tuple[int, Reply]] = field(default_factory=list)
    state: str = outbox.SENT  # the row's final state when there is nothing (more) to send
    retry: str | None = None  # nothing to send now: try the row again later (bounded), for this reason


def nothing(state: str = outbox.CANCELLED) -> Prepared:
    return Prepared(state=state)


@dataclass
class Kind:
    name: str
    late_after: timedelta | None  # later than this it is recorded as missed, not sent; None: no limit
    pause_cancels: bool  # a pause (and an unreachable patient) cancels pending rows of this kind
    end_cancels: bool  # the end of the program cancels them (everything sent to the patient)
    key: tuple[str, ...]  # the outbox columns that, with the kind, make a row unique
    prepare: Callable[..., Awaitable[Prepared]] | None = None  # (session, runtime, row, patient) -> Prepared
    prepare_batch: Callable[..., Awaitable[dict[int, Prepared]]] | None = None  # (session, runtime, rows)


H = timedelta(hours=1)
PATIENT_DAY = ("patient_id", "local_date")
KINDS: dict[str, Kind] = {k.name: k for k in (
    # name                late_after  pause  end    key
    Kind("reminder",        3 * H,      True,  True,  (*PATIENT_DAY, "variant")),  # variant: the time of day
    Kind("reminder_repeat", 1 * H,      True,  True,  ("session_id", "variant")),  # the repeat's number / snooze
    Kind("reminder_expire", None,       True,  True,  ("session_id", "variant")),
    Kind("during_prompt",   1 * H,      True,  True,  ("session_id",)),
    Kind("after_prompt",    2 * H,      True,  True,  ("session_id",)),
    Kind("morning_prompt",  6 * H,      True,  True,  ("session_id",)),
    Kind("recheck",         6 * H,      True,  True,  ("session_id",)),
    Kind("why",             24 * H,     True,  True,  PATIENT_DAY),  # local_date: the Monday of its week
    Kind("trial_notice",    24 * H,     False, True,  PATIENT_DAY),  # local_date: the trial period's last day
    Kind("trial_expire",    None,       False, True,  PATIENT_DAY),
    # the morning after a rest-today red flag (the patient is paused: a pause does not cancel it)
    Kind("flag_again",      24 * H,     False, True,  PATIENT_DAY),
    # outcome measures every 14 days, the trial's end included (coaching/outcomes.py; a paused patient skips one)
    Kind("outcome_round",   24 * H,     False, True,  PATIENT_DAY),
    # the patient's progress (coaching/progress.py): 「…さんの1週間」 on their own day, a milestone celebrated once
    # (variant: the milestone; sent as optional), the end-of-trial report (local_date: the trial's last day)
    Kind("weekly_report",   24 * H,     False, True,  PATIENT_DAY),
    Kind("celebration",     24 * H,     False, True,  ("patient_id", "variant")),
    Kind("trial_report",    24 * H,     False, True,  PATIENT_DAY),
    Kind("cleared",         None,       False, True,  ("patient_id", "variant")),  # variant: the clearance id
    Kind("alert",           None,       False, False, ("patient_id", "session_id", "variant")),  # variant: event
    # an emergency alert nobody acknowledged: again to the admins and the staff chat (the alert's key columns)
    Kind("alert_renotify",  None,       False, False, ("patient_id", "session_id", "variant")),
    Kind("staff_notice",    None,       False, False, ("telegram_user_id", "variant")),
    # a signup's emergency / same-day notice nobody acknowledged: again to the admins and the staff chat
    Kind("notice_renotify", None,       False, False, ("telegram_user_id", "variant")),
    # an alert that reached no one: the patient is told to phone the clinic (variant: the alert's row id)
    Kind("alert_undelivered", None,     False, True,  ("patient_id", "variant")),
    # the clinic to the patient (issue 10): a clinician's control they should know of, a note, a reply to their
    # question (variant: the audit row's id); checked against the patient's state when sent
    Kind("clinic_notice",   None,       False, True,  ("patient_id", "variant")),
    # a patient's question to their clinician (else the staff chat / admins), and again to the staff chat and the
    # admins when unanswered after a day (variant: the question's id); nothing once answered
    Kind("question",        None,       False, False, ("patient_id", "variant")),
    Kind("question_overdue", None,      False, False, ("patient_id", "variant")),
    # built from the database when sent: late is still useful, and it is sent once
    Kind("weekly_summary",  None,       False, False, ("clinician_id", "local_date")),  # the week's last day
    # LINE's monthly pushes (bot/line/quota.py): the clinic told once a month per level (variant: month:level; a
    # safety message LINE refused names its patient: telegram_user_id), and each LINE patient once when daily
    # messages pause until the 1st (variant: the month)
    Kind("line_quota",      None,       False, False, ("telegram_user_id", "variant")),
    Kind("line_paused",     24 * H,     False, True,  ("patient_id", "variant")),
    # a handler's answer, sent by the handler right after its commit; here only when the process died first
    Kind("reply",           24 * H,     False, False, ("telegram_user_id", "variant")),  # variant: the update id
)}


# Kinds sent to the clinic, not to the patient the row is about: a 403 from their chat says nothing about the
# patient's reachability.
CLINIC_KINDS = ("alert", "alert_renotify", "staff_notice", "notice_renotify", "weekly_summary", "question",
                "question_overdue", "line_quota")


def cancelled_by_pause() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.pause_cancels)


def cancelled_by_end() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.end_cancels)


def too_late(row: Outbox, now: datetime) -> bool:
    """The catch-up policy: later than its kind's limit, a row is recorded as missed, not sent."""
    kind = KINDS.get(row.kind)
    limit = kind.late_after if kind is not None else H
    return limit is not None and now - row.due_at > limit


def prepares(*names: str) -> Callable[[Any], Any]:
    """Attach a row-by-row preparation to these kinds."""
    def attach(fn: Any) -> Any:
        for name in names:
            KINDS[name].prepare = fn
        return fn
    return attach


def prepares_batch(name: str) -> Callable[[Any], Any]:
    """Attach a preparation that takes a whole batch of due rows of this kind at once."""
    def attach(fn: Any) -> Any:
        KINDS[name].prepare_batch = fn
        return fn
    return attach
