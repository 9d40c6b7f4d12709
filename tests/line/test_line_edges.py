"""LINE's edges: a bad signature, a replayed webhook, an expired reply token, an exhausted allowance, our monthly
cap, pictures served from the bot's own endpoint, a block (unfollow), a group, and erasure."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

import aiohttp
import pytest
from sqlmodel import col

from bot.coaching.messages import Held, Reply
from bot.i18n import t
from bot.storage.models import ExerciseSession, HostedMedia, Inbox, LineUser, Outbox, Patient
from tests.helpers import enrol
from tests.line.conftest import ADMIN


async def test_a_bad_signature_gets_400_and_changes_nothing(line_coach, line, patient, caplog):
    body = json.dumps({"destination": line.bot_user_id, "events": [{
        "type": "message", "webhookEventId": "01FORGED", "timestamp": 0, "mode": "active", "replyToken": "x",
        "source": {"type": "user", "userId": patient}, "message": {"id": "1", "type": "text", "text": "/start"},
        "deliveryContext": {"isRedelivery": False}}]}).encode()
    assert await line.post_raw(body, "AAAA" + line.sign(body)[4:]) == 400  # a forged signature
    assert await line.post_raw(body, None) == 400  # none at all
    assert await line_coach.count(Inbox) == 0 and await line_coach.count(LineUser) == 0
    assert line.messages(patient) == []
    assert "bad or missing signature" in caplog.text


async def test_a_replayed_webhook_is_handled_once(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.travel(hours=1)
    await line_coach.press(patient, "今から始める")
    answered = await line_coach.press(patient, "3")
    tap = line.last_event()
    before = len(line.messages(patient))
    assert await line.redeliver(tap) == 200  # LINE sends the same event again: acknowledged, not handled
    await line_coach.travel(seconds=1)
    assert len(line.messages(patient)) == before and answered
    [s] = await line_coach.rows(ExerciseSession)
    assert s.before == 3


async def test_an_answer_whose_reply_token_expired_is_pushed_once(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.travel(hours=1)
    url, line.webhook_url = line.webhook_url, None  # the bot is unreachable when the patient taps
    await line.user_presses(patient, line.button(patient, "今から始める"))
    tap = line.last_event()
    line_coach.clock.travel(timedelta(minutes=2))  # LINE delivers it again two minutes later
    line.webhook_url = url
    before, pushes = len(line.messages(patient)), line.pushes_used
    await line_coach._on_line(patient, line.redeliver(tap))
    answer = line.messages(patient)[before:]
    assert answer and all(m.via == "push" for m in answer)  # the token was no longer valid: pushed instead
    assert line.pushes_used == pushes + 1  # one push for the whole answer (up to 5 messages per push)
    assert line.stats["rejected"]["invalid_reply_token"] == 1


async def test_an_exhausted_allowance_holds_pushes_tells_the_clinic_and_replies_still_work(line_coach, line,
                                                                                          patient):
    """LINE refuses pushes once the account's allowance is spent (here: spent by messages the bot did not send,
    after it last read the allowance): the row is held, the clinic told; the patient's own taps are answered."""
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.travel(hours=1)  # 09:00: the reminder (the allowance read: unlimited)
    line.monthly_quota = line.pushes_used  # LINE: "You have reached your monthly limit."
    await line_coach.press(patient, "今から始める")
    await line_coach.press(patient, "2")
    await line_coach.travel(minutes=10)  # the "during" question is a push: refused
    [row] = await line_coach.rows(Outbox, col(Outbox.kind) == "during_prompt")
    assert row.state == "missed" and row.last_error.startswith("held")
    await line_coach.travel(seconds=1)
    assert coach_said(line_coach, t("line.quota.level3"))
    answer = await line_coach.text(patient, "/today")  # what the patient does is still answered, free
    assert answer and answer[0].via == "reply"


async def test_a_safety_push_line_refuses_is_named_to_the_clinic(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    [p] = await line_coach.rows(Patient)
    line.monthly_quota = line.pushes_used
    channel = line_coach.app.bot_data["channels"]
    with pytest.raises(Held):
        await channel.send(p.chat_id, [Reply("安全のための連絡", priority="safety")], key="test:safety")
    await line_coach.travel(seconds=1)
    assert coach_said(line_coach, t("line.quota.safety_not_sent", nickname="はなこ", id=p.id))


@pytest.mark.parametrize(("cap", "allowance"), [(20, None), (0, 20)], ids=["our_cap", "line_allowance"])
async def test_near_the_limit_optional_then_essential_pushes_stop_and_clinic_and_patients_are_told(
        standin, line, database_url, patient, cap, allowance):
    """The limit is our LINE_MONTHLY_CAP, or the account's own allowance read from LINE when no cap is set."""
    from line_standin import new_user_id
    from tests.harness import Coach
    from tests.helpers import START

    line.monthly_quota = allowance
    coach = await Coach(standin, database_url, START, line=line, admin_telegram_ids=[ADMIN], line_monthly_cap=cap,
                        line_optional_until_percent=50, line_safety_reserve_percent=25).start()
    try:
        channel = coach.app.bot_data["channels"]
        other = new_user_id()
        for user in (patient, other):
            await coach.follow(user)
            await enrol(coach, user)
        [p, q] = await coach.rows(Patient)
        sent = line.pushes_used  # the enrolment's own pushes (the answers went free)
        held = 0
        for i in range(20):
            try:
                await channel.send(p.chat_id, [Reply(f"豆知識 {i}", priority="optional")], key=f"o{i}")
            except Held:
                held += 1
        assert line.pushes_used == max(sent, 10) and held == 20 - (max(sent, 10) - sent)  # optional: 50 % of 20
        for i in range(20):
            with contextlib.suppress(Held):
                await channel.send(p.chat_id, [Reply(f"お知らせ {i}")], key=f"e{i}")
        assert line.pushes_used == 15  # essential stop where the 25 % reserve (5) begins
        await coach.travel(seconds=1)
        assert coach_said(coach, t("line.quota.level1", used=10, cap=20))
        assert coach_said(coach, t("line.quota.level2", used=15, cap=20))
        for user, who in ((patient, p), (other, q)):  # each LINE patient told once, from the reserve
            told = [m for m in line.messages(user) if m.text and m.text.startswith(f"{who.nickname}さん、今月は毎日")]
            assert len(told) == 1 and told[0].via == "push"
        await channel.send(p.chat_id, [Reply("安全のための連絡", priority="safety")], key="s1")  # never held
        assert line.messages(patient)[-1].text == "安全のための連絡"
    finally:
        await coach.stop()


async def test_exercise_pictures_come_from_the_bot_s_own_endpoint_in_one_push(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    pushes, seen = line.pushes_used, len(line.messages(patient))
    await line_coach.travel(hours=1)  # 09:00: lesson 1, the exercises' pictures with their captions, the reminder
    sent = line.messages(patient)[seen:]
    [cards] = [m for m in sent if m.message["type"] == "flex"]  # every exercise in one carousel
    assert len(cards.images) == len(cards.card_texts) >= 4 and cards.via == "push"
    assert all(text.startswith("【") for text in cards.card_texts)  # each picture above its caption
    assert len(sent) <= 5 and line.pushes_used - pushes == 1  # the whole first reminder in one push
    assert "今から始める" in line_coach.last_buttons(patient)
    async with aiohttp.ClientSession() as http:
        async with http.get(cards.images[0]) as resp:
            assert resp.status == 200 and resp.content_type == "image/png"
            assert (await resp.read()).startswith(b"\x89PNG")
        async with http.get(cards.images[0].replace(".png", "0.png")) as resp:
            assert resp.status == 404


async def test_a_block_stops_pushes_and_coming_back_plans_them_again(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    await line_coach.unfollow(patient)
    [p] = await line_coach.rows(Patient)
    assert p.unreachable
    pushes = line.pushes_used
    await line_coach.travel(days=2)
    assert line.pushes_used == pushes  # nothing pushed to someone who blocked the account
    await line_coach.follow(patient)
    [p] = await line_coach.rows(Patient)
    assert not p.unreachable
    assert await line_coach.count(Outbox, col(Outbox.kind) == "reminder", col(Outbox.state) == "pending") == 1


async def test_group_messages_get_no_answer_and_store_nothing(line_coach, line, patient):
    from line_standin import new_group_id

    group = new_group_id()
    assert await line.user_sends_text(patient, "/trial", group_id=group) == 200
    assert await line.user_sends_text(patient, "腰が痛いです", group_id=group) == 200
    assert line.messages(group) == [] and line.messages(patient) == []
    assert await line_coach.count(Inbox) == 0 and await line_coach.count(LineUser) == 0


async def test_erasure_removes_the_line_id_and_the_hosted_pictures(line_coach, line, patient):
    await line_coach.follow(patient)
    await enrol(line_coach, patient)
    [p] = await line_coach.rows(Patient)
    channel = line_coach.app.bot_data["channels"]
    await channel.send(p.chat_id, [Reply("グラフ", photo=b"\x89PNG chart")], key="chart")
    assert await line_coach.count(HostedMedia) == 1
    await line_coach.text(patient, "/delete")
    await line_coach.press(patient, t("button.delete_yes"))
    assert await line_coach.count(Patient) == 0
    assert await line_coach.count(HostedMedia) == 0 and await line_coach.count(LineUser) == 0


async def test_a_retried_push_is_delivered_once(line_coach, line, patient):
    """The same outbox row sent twice (a crash after LINE accepted it, before `sent` was recorded): the retry key
    makes LINE answer 409 and the patient sees it once."""
    await line_coach.follow(patient)
    [p_number] = [u.telegram_user_id for u in await line_coach.rows(LineUser)]
    channel = line_coach.app.bot_data["channels"]
    before = len(line.messages(patient))
    for _ in range(2):
        await channel.send(p_number, [Reply("一度だけ")], key="outbox:77:0")
    assert [m.text for m in line.messages(patient)[before:]] == ["一度だけ"]


def coach_said(coach, text: str) -> bool:
    return any(text in (m.body or "") for m in coach.standin.messages(ADMIN))


