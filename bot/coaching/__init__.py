"""Coaching: the daily loop and the patient's program state, between handlers/delivery and storage.

- sessions.py: a session's questions and answers -> rules.decide() -> applied and scheduled; the Reply to send
- patients.py: every change of a patient's program state, with what must go with it
- schedule.py: the rows of a patient's days (reminders, end-of-trial rows, weekly explanations)

Nothing here talks to Telegram.
"""

from bot.coaching import patients
from bot.coaching.schedule import reminder_follow_up, reminder_row, schedule_reminder, schedule_why
from bot.coaching.sessions import (
    answer_rating,
    ask,
    ask_now,
    decision_text,
    plan_lines,
    report_red_flags,
    session_for_today,
    skip,
    snooze,
    start_session,
)

__all__ = [
    "answer_rating",
    "ask",
    "ask_now",
    "decision_text",
    "patients",
    "plan_lines",
    "reminder_follow_up",
    "reminder_row",
    "report_red_flags",
    "schedule_reminder",
    "schedule_why",
    "session_for_today",
    "skip",
    "snooze",
    "start_session",
]
