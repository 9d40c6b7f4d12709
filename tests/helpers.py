"""What a patient does in many tests, through the stand-in (see tests/harness.py for the Coach)."""

from __future__ import annotations

from datetime import UTC, datetime

USER = 5001
# 2026-12-01 08:00 in Tokyo (a Tuesday): before a 09:00 reminder. Every coach starts here.
START = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


async def enrol(coach, user: int | str = USER, *, time: str = "09:00", nickname: str = "はなこ", usual: str = "３",
                falls: str = "いいえ", unsteady: str = "いいえ") -> None:
    """Walk the /trial conversation with buttons and typed answers, as a patient would."""
    await coach.text(user, "/trial")
    assert "同意" in coach.last(user)
    await coach.press(user, "同意して始める")
    await answer_signup(coach, user, condition="膝痛", usual=usual, time=time, falls=falls, unsteady=unsteady)
    await coach.text(user, nickname)
    await coach.press(user, "この内容で始める")


async def up_to_todays_signs(coach, user: int | str = USER, *, condition: str = "腰痛", usual: str = "3",
                             falls: str = "いいえ", unsteady: str = "いいえ") -> None:
    """After consent, up to the question about today's signs: the condition, usual pain, fall and unsteadiness."""
    await coach.press(user, condition)
    await coach.text(user, usual)  # usual pain, e.g. a full-width digit
    await coach.press(user, falls)  # a fall in the last year (fall risk)
    await coach.press(user, unsteady)


async def answer_signup(coach, user: int | str = USER, *, condition: str = "腰痛", usual: str = "3",
                        time: str = "09:00", falls: str = "いいえ", unsteady: str = "いいえ") -> None:
    """After consent, up to the nickname question: the condition, usual pain, no fall and no unsteadiness (by
    default), no warning sign, the times."""
    await up_to_todays_signs(coach, user, condition=condition, usual=usual, falls=falls, unsteady=unsteady)
    await coach.press(user, "どれも当てはまらない")
    await coach.press(user, "どれも当てはまらない")  # the guideline screen
    await coach.text(user, time)  # exercise time typed, e.g. 09:00 / ９時
    await coach.press(user, "07:00")  # morning check time


async def day(coach, before: int, during: int, after: int, morning: int | None, user: int | str = USER) -> None:
    """One session from the 09:00 reminder to the 07:00 next-morning answer (clock starts 08:00)."""
    await coach.travel(hours=1)  # 09:00 reminder
    await coach.press(user, "今から始める")
    await coach.press(user, str(before))
    await coach.press(user, "1つ目が終わった")
    await coach.press(user, str(during))
    if "全部終わった" in coach.last_buttons(user):
        await coach.press(user, "全部終わった")
        await coach.press(user, str(after))
    await coach.travel(hours=22)  # 07:00 next morning
    if morning is not None:
        await coach.press(user, str(morning))
    await coach.travel(hours=1)  # back to 08:00


async def press_sign(coach, flag: str, user: int | str = USER) -> list:
    """Tap a warning sign in the check-in's (or signup's) two steps: its kind, then the sign; returns what the
    second tap brought."""
    from bot.i18n import t
    from rules import MENU_GROUPS

    group = next(g for g, flags in MENU_GROUPS.items() if flag in flags)
    await coach.press(user, t(f"checkin.group.{group}"))
    return await coach.press(user, t(f"flag.{flag}"))


def advice(coach, key: str, **params: object) -> str:
    """A red-flag text as this coach renders it: with the clinic's contact (bot/coaching/safety.py)."""
    from bot.coaching import safety
    from bot.i18n import t

    return t(key, **safety.contact(coach.rt), **params)
