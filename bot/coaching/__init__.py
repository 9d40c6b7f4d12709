"""Coaching: the daily loop and the patient's program state, between handlers/delivery and storage.

- sessions.py: a session's questions and answers -> rules.decide() -> applied and scheduled; the Reply to send
- patients.py: every change of a patient's program state, with what must go with it
- schedule.py: the rows of a patient's days (reminders, end-of-trial rows, weekly explanations)
- plan.py: the day's plan card with a 「やり方を見る」 button per exercise, and the exercises' pictures

Nothing here talks to Telegram.
"""

from bot.coaching import patients, plan
from bot.coaching.plan import plan_buttons, plan_lines
from bot.coaching.schedule import reminder_follow_up, reminder_row, schedule_reminder, schedule_why
from bot.coaching.sessions import (
    answer_rating,
    ask,
    ask_now,
    decision_text,
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
    "plan",
    "plan_buttons",
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
