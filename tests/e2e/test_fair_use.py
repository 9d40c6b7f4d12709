"""Fair use (issue 13): one user's flood gets no replies beyond a burst and slows nobody else; ratings and
red-flag reports are never dropped; wrong invite codes are limited per user. Time is travelled, not slept."""

from __future__ import annotations

import pytest

from bot.i18n import t
from bot.storage.models import Clinician, ExerciseSession, RedFlagReport, Signup
from tests.e2e.test_bad_input import start_session
from tests.e2e.test_clinicians import ADMIN, DOC, invite
from tests.harness import Coach
from tests.helpers import START, USER, press_sign

OTHER = 5002
BURST, PER_MINUTE = 5, 6  # one update every 10 s after the burst


@pytest.fixture
async def fair(standin, database_url):
    c = await Coach(standin, database_url, START, admin_telegram_ids=[ADMIN], throttle_burst=BURST,
                    throttle_per_minute=PER_MINUTE, invite_attempts=3, invite_window_minutes=10).start()
    yield c
    await c.stop()


async def flood(coach, user: int, n: int, text: str = "/help") -> int:
    """`user` sends `text` n times; how many got an answer."""
    answered = 0
    for _ in range(n):
        answered += len(await coach.text(user, text))
    return answered


async def test_a_flood_gets_no_replies_beyond_the_burst_and_others_are_answered(fair):
    assert await flood(fair, USER, 30) == BURST
    assert fair.rt.fair_use.dropped == 30 - BURST
    assert len(await fair.text(OTHER, "/help")) == 1  # someone else is not held up
    await fair.travel(seconds=10)  # one more update's worth of time
    assert await flood(fair, USER, 3) == 1
    await fair.travel(minutes=5)
    assert await flood(fair, USER, BURST + 2) == BURST


async def test_repeated_taps_beyond_the_burst_get_no_answer(fair):
    await fair.text(USER, "/trial")
    answers = len(fair.standin.callback_answers)
    consent = fair.find(USER, button_text=t("button.consent"))
    for _ in range(10):
        await fair.press_raw(USER, "trial", consent.message_id)
    assert len(fair.standin.callback_answers) - answers == BURST - 1  # /trial took one token
    assert await fair.count(Signup) == 0


async def test_ratings_and_red_flags_are_never_dropped(fair):
    fair.rt.fair_use.burst = 1000  # enrol and start at leisure, then use the whole burst up
    await start_session(fair)
    fair.rt.fair_use.burst = BURST
    assert await flood(fair, USER, 20) == BURST
    assert len(await fair.text(USER, "4")) == 1  # a typed rating
    [session] = await fair.rows(ExerciseSession)
    assert session.before == 4
    await fair.press(USER, t("button.first_done"))  # a tap beyond the burst: dropped
    await fair.text(USER, "/symptom")  # the red-flag check-in is never dropped
    await press_sign(fair, "fever")
    assert await fair.count(RedFlagReport) == 1


async def test_wrong_invite_codes_are_limited_per_user(fair):
    code = await invite(fair)
    for wrong in ("AAAA2222", "BBBB3333", "CCCC4444"):
        [reply] = await fair.text(DOC, f"/clinician {wrong}")
        assert reply.body == t("clinic.join.invalid")
    [reply] = await fair.text(DOC, f"/clinician {code}")  # even the right code: please wait
    assert reply.body == t("common.invite_wait", minutes=10)
    assert await fair.count(Clinician) == 0
    [reply] = await fair.text(USER, "/start c_ZZZZ9999")  # another user is not affected
    assert reply.body == t("start.welcome")
    await fair.travel(minutes=10)
    await fair.text(DOC, f"/clinician {code}", first_name="田中")
    assert await fair.count(Clinician) == 1


async def test_invite_links_count_as_invite_attempts(fair):
    for wrong in ("AAAA2222", "BBBB3333", "CCCC4444"):
        [reply] = await fair.text(USER, f"/start c_{wrong}")
        assert reply.body == t("start.welcome")
    [reply] = await fair.text(USER, "/start c_DDDD5555")
    assert reply.body == t("common.invite_wait", minutes=10)
    consent_yes = "c:yes:EEEE6666"
    await fair.press_raw(USER, consent_yes, 1)
    assert fair.standin.callback_answers[-1][1] == t("common.invite_wait", minutes=10)
    assert await fair.count(Signup) == 0
