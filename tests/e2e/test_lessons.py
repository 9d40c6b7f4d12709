"""The clinic's article in seven lessons (issue 9 §3): one with each of the first seven reminders of a
trial period, before the reminder (whose buttons stay on the last message); all seven under /why."""

from __future__ import annotations

from bot.i18n import t
from bot.storage.models import Outbox
from rules import load_program
from tests.helpers import USER, enrol


def header(n: int) -> str:
    return t("lesson.header", n=n, title=t(f"lesson.{n}.title"))


async def test_one_lesson_with_each_of_the_first_seven_reminders_then_none(coach):
    await enrol(coach)  # 08:00; the reminder is at 09:00 every day
    got = []
    for day in range(1, 9):
        seen = len(coach.standin.messages(USER))
        await coach.travel(hours=1)  # 09:00: the day's reminder
        sent = coach.standin.messages(USER)
        todays = sent[seen:]
        reminder = sent[-1]
        assert reminder.body.startswith(t("reminder.text", nickname="はなこ").splitlines()[0])
        assert reminder.buttons, "the reminder, with its buttons, is the last message"
        lessons = [m for m in sent if m.body.startswith("【お話 ")]
        got.append(len(lessons))
        if day <= 7:  # the lesson first; on day 1 the exercises' pictures between it and the reminder
            assert todays[0].body.startswith(header(day)), f"day {day}: lesson {day} before the reminder"
            assert t(f"lesson.{day}", severe=7) in todays[0].body
            pictures = ["photo"] * len(load_program("knee").exercises)  # one a new exercise, on day 1
            assert [m.kind for m in todays[1:-1]] == (pictures if day == 1 else []), day
        await coach.press(USER, t("button.skip"))  # no session today
        await coach.travel(hours=23)  # back to 08:00 next day
    assert got == [1, 2, 3, 4, 5, 6, 7, 7], "seven lessons in all, one a day, none on day 8"


async def test_why_lists_the_seven_lessons_and_opens_each(coach):
    await enrol(coach)
    [listing] = await coach.text(USER, "/why")
    assert listing.body == t("lesson.list")
    assert listing.button_texts == [f"{n}. {t(f'lesson.{n}.title')}" for n in range(1, 8)]
    [lesson] = await coach.press(USER, f"4. {t('lesson.4.title')}")
    assert lesson.body == f"{header(4)}\n{t('lesson.4')}"
    [again] = await coach.press(USER, f"7. {t('lesson.7.title')}")  # the list keeps its buttons
    assert "7 以上" in again.body  # the clinic's "severe" threshold, not a number written into the text


async def test_why_works_for_a_stranger_too(coach):
    [listing] = await coach.text(USER, "/why")
    assert len(listing.buttons) == 7
    [lesson] = await coach.press(USER, f"1. {t('lesson.1.title')}")
    assert lesson.body.startswith(header(1))
    assert await coach.count(Outbox) == 0  # nothing stored for someone not enrolled


async def test_a_forged_lesson_button_is_refused(coach):
    await coach.text(USER, "/why")
    listing = coach.standin.messages(USER)[-1]
    for data in ("ls:0", "ls:8", "ls:x", "ls:1:2", "ls:０"):
        await coach.press_raw(USER, data, listing.message_id)
        assert coach.standin.last_message(USER).message_id == listing.message_id, data  # no new message


def test_every_lesson_fits_a_phone_screen():
    for n in range(1, 8):
        assert len(t(f"lesson.{n}", severe=7)) <= 300, n
        assert len(t(f"lesson.{n}.title")) <= 16, n
