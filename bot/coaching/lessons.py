"""The clinic's article in seven short lessons (issue 9 §3): one with each of the first seven reminders of a
trial period (before the reminder, so the reminder's buttons stay on the last message), and all of them
under /why. Texts: locales (`lesson.*`); facts and sources: docs/clinical.md, "Lessons"."""

from __future__ import annotations

from bot.callbacks import Lesson
from bot.coaching.messages import Buttons, Reply
from bot.i18n import t
from bot.runtime import Runtime

COUNT = 7


def lesson(rt: Runtime, n: int) -> Reply:
    """Lesson n (1..7) as one message, with its header."""
    return Reply(f"{t('lesson.header', n=n, title=t(f'lesson.{n}.title'))}\n{body(rt, n)}", priority="optional")


def body(rt: Runtime, n: int) -> str:
    return t(f"lesson.{n}", severe=rt.thresholds.severe)


def listing() -> Reply:
    """/why: the seven lessons, one button each."""
    buttons: Buttons = [[(f"{n}. {t(f'lesson.{n}.title')}", Lesson(n).data)] for n in range(1, COUNT + 1)]
    return Reply(t("lesson.list"), buttons)


def for_reminder(sessions_in_period: int) -> int | None:
    """Which lesson goes with a reminder: the n-th day with a session in this trial period gets lesson n."""
    return sessions_in_period if 1 <= sessions_in_period <= COUNT else None
