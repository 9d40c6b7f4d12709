"""Private chats only (issue 13): in a group the bot answers a command or a button with one short line
pointing to a private chat and stores nothing; channel posts are ignored; the staff chat takes only the
buttons of the notices sent there, and their answers go privately to whoever pressed."""

from __future__ import annotations

import logging

import pytest

from bot.i18n import t
from bot.storage.models import Clinician, Invite, Signup
from tests.e2e.test_bad_input import snapshot, start_session
from tests.e2e.test_clinicians import ADMIN, DOC, invite
from tests.harness import Coach
from tests.helpers import USER, enrol, press_sign

GROUP = -1001234
STAFF = -1007777
CHANNEL = -1009999
POINTER = t("common.private_only", bot="itami_coach_bot")


@pytest.fixture
async def clinic(standin, database_url, coach_start):
    standin.add_group(STAFF, "supergroup")
    c = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN], staff_chat_id=STAFF).start()
    yield c
    await c.stop()


def only_pointer(sent, chat: int = GROUP) -> None:
    assert [(m.chat_id, m.kind, m.body) for m in sent] == [(chat, "text", POINTER)]


@pytest.mark.parametrize("kind", ["group", "supergroup"])
async def test_a_patients_commands_in_a_group_show_no_health_data(coach, kind):
    await start_session(coach)
    await coach.text(USER, "3")  # one rating stored: /history would show it
    before = await snapshot(coach)
    for command in ("/history", "/today", "/settings", "/mydata", "/symptom", "/start", "/help", "/delete"):
        only_pointer(await coach.group_text(USER, GROUP, command, kind))
    assert await snapshot(coach) == before


async def test_a_rating_typed_in_a_group_is_not_stored_and_not_answered(coach):
    await start_session(coach)
    before = await snapshot(coach)
    assert await coach.group_text(USER, GROUP, "5") == []
    assert await snapshot(coach) == before
    [reply] = await coach.text(USER, "5")  # the question is still open in the private chat
    assert t("rating.recorded", value=5) not in reply.body


async def test_a_button_pressed_in_a_group_changes_nothing(coach):
    await start_session(coach)
    [prompt] = [m for m in coach.standin.messages(USER) if m.buttons and m.buttons[0][0][1].startswith("rt:")][-1:]
    data = prompt.buttons[0][3][1]
    coach.standin.add_group(GROUP)
    before = await snapshot(coach)
    assert await coach.press_raw(USER, data, 1, chat=GROUP) == []
    assert coach.standin.callback_answers[-1][1:] == (POINTER, True)
    assert await snapshot(coach) == before


async def test_nobody_signs_up_in_a_group(coach):
    only_pointer(await coach.group_text(USER, GROUP, "/trial"))
    for data in ("c:yes", "trial", "su:cond:low_back"):
        assert await coach.press_raw(USER, data, 1, chat=GROUP) == []
        assert coach.standin.callback_answers[-1][1:] == (POINTER, True)
    assert await coach.count(Signup) == 0
    assert await coach.group_text(USER, GROUP, "はなこ") == []  # typed text in a group: no answer at all


async def test_a_clinician_is_not_bound_to_a_group_and_their_commands_show_nothing_there(clinic):
    code = await invite(clinic)
    only_pointer(await clinic.group_text(DOC, GROUP, f"/clinician {code}"))
    assert await clinic.count(Clinician) == 0
    [row] = await clinic.rows(Invite)
    assert row.used_at is None  # still usable, in the private chat
    await clinic.text(DOC, f"/clinician {code}", first_name="田中")
    [c] = await clinic.rows(Clinician)
    assert c.chat_id == DOC
    await enrol(clinic)
    for command in ("/patient 1", "/export", "/patients", "/summary", "/invite", "/clinicians"):
        only_pointer(await clinic.group_text(DOC if command not in ("/invite", "/clinicians") else ADMIN, GROUP,
                                             command))


async def test_channel_posts_are_ignored_without_an_error(coach, caplog):
    with caplog.at_level(logging.ERROR):
        for text in ("/start", "/help", "/history", "5", "hello"):
            assert await coach.channel_post(CHANNEL, text) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert coach.standin.all_messages() == []


async def test_the_staff_chat_takes_only_its_notices_buttons_and_answers_privately(clinic):
    await enrol(clinic)  # no clinician: its alerts and the signup notice go to the staff chat
    await clinic.text(USER, "/symptom")
    await press_sign(clinic, "fever")
    await clinic.travel(minutes=1)
    alert = next(m for m in clinic.standin.messages(STAFF) if m.buttons)
    data = next(d for row in alert.buttons for _, d in row if d.startswith("cp:"))

    private = await clinic.press_raw(ADMIN, data, alert.message_id, chat=STAFF)
    assert clinic.standin.callback_answers[-1][1] == t("clinic.sent_privately")
    assert private and all(m.chat_id == ADMIN for m in private)
    assert "はなこ" in private[0].body

    staff_before = len(clinic.standin.messages(STAFF))
    assert await clinic.press_raw(USER, data, alert.message_id, chat=STAFF) == []  # a patient: refused
    assert clinic.standin.callback_answers[-1][1] == t("clinic.refused")
    for command in ("/patients", "/help", "/history"):  # nothing else works there
        only_pointer(await clinic.group_text(ADMIN, STAFF, command, "supergroup"), STAFF)
    assert await clinic.press_raw(USER, "rf:open", alert.message_id, chat=STAFF) == []
    assert clinic.standin.callback_answers[-1][1] == POINTER
    assert len(clinic.standin.messages(STAFF)) == staff_before + 3
