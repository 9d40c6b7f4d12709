"""line_standin/ driven by the real line-bot-sdk v3 async client, so the SDK and the stand-in agree.

Time is a clock the tests move (no sleeping); the webhook side is a small aiohttp receiver that checks
X-Line-Signature and parses the events with the SDK's WebhookParser.
"""

from __future__ import annotations

import ast
import json
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    ImageMessage,
    MessageAction,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, UnfollowEvent

from line_standin import LineStandin, NoSuchButton, new_group_id, new_user_id
from line_standin.__main__ import parse_args

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "test-channel-access-token"


class Clock:
    """The stand-in's clock; tests advance it instead of sleeping."""

    def __init__(self) -> None:
        self.t = datetime(2026, 3, 31, 23, 50, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class Receiver:
    """The bot's webhook endpoint, reduced to: check the signature, parse, keep, answer 200 (or 400)."""

    def __init__(self) -> None:
        self.parser = WebhookParser(SECRET)
        self.events: list[Any] = []
        self.raw: list[dict[str, Any]] = []
        self.rejected = 0
        self.headers: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        self.headers.append(dict(request.headers))
        try:
            events = self.parser.parse(body, request.headers.get("X-Line-Signature", ""))
        except InvalidSignatureError:
            self.rejected += 1
            return web.Response(status=400)
        self.events.extend(events)
        self.raw.append(json.loads(body))
        return web.Response(status=200)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/callback", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield rec, f"http://127.0.0.1:{runner.addresses[0][1]}/callback"
    await runner.cleanup()


@pytest.fixture
async def line(clock: Clock, receiver: tuple[Receiver, str]) -> AsyncIterator[LineStandin]:
    async with LineStandin(SECRET, TOKEN, webhook_url=receiver[1], now=clock, allow_http_media=True) as standin:
        yield standin


@pytest.fixture
async def api(line: LineStandin, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AsyncMessagingApi]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the SDK's aiohttp session trusts the environment
    async with AsyncApiClient(Configuration(host=line.base_url, access_token=TOKEN)) as client:
        yield AsyncMessagingApi(client)


def body_of(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def text(t: str, **kw: Any) -> TextMessage:
    return TextMessage(text=t, **kw)


def buttons(*labels: str) -> QuickReply:
    return QuickReply(items=[QuickReplyItem(action=PostbackAction(label=lb, data=f"d:{lb}")) for lb in labels])


# ==== reply =========================================================================================
async def test_a_reply_within_the_ttl_is_delivered_once(line: LineStandin, api: AsyncMessagingApi) -> None:
    user = new_user_id()
    assert await line.user_sends_text(user, "こんにちは") == 200
    token = line.last_event()["replyToken"]
    resp = await api.reply_message_with_http_info(ReplyMessageRequest(reply_token=token, messages=[text("はい")]))
    assert resp.status_code == 200
    assert len(resp.data.sent_messages) == 1 and resp.data.sent_messages[0].quote_token
    assert uuid.UUID(resp.headers["x-line-request-id"])
    [msg] = line.messages(user)
    assert (msg.via, msg.message["text"], msg.request_id) == ("reply", "はい", resp.headers["x-line-request-id"])
    assert line.pushes_used == 0 and line.stats["replies"] == 1  # replies are free

    with pytest.raises(ApiException) as reused:
        await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[text("もう一度")]))
    assert reused.value.status == 400 and body_of(reused.value) == {"message": "Invalid reply token"}
    assert line.texts(user) == ["はい"]


async def test_a_reply_token_expires_on_the_standins_clock(
    line: LineStandin, api: AsyncMessagingApi, clock: Clock
) -> None:
    user = new_user_id()
    await line.user_sends_text(user, "a")
    first = line.last_event()["replyToken"]
    await line.user_presses(user, "rt:3")
    second = line.last_event()["replyToken"]
    clock.advance(60)
    await api.reply_message(ReplyMessageRequest(reply_token=second, messages=[text("ok at 60 s")]))
    clock.advance(0.001)
    with pytest.raises(ApiException) as late:
        await api.reply_message(ReplyMessageRequest(reply_token=first, messages=[text("too late")]))
    assert late.value.status == 400 and body_of(late.value)["message"] == "Invalid reply token"
    assert line.texts(user) == ["ok at 60 s"]
    with pytest.raises(ApiException) as made_up:
        await api.reply_message(ReplyMessageRequest(reply_token="nonsense", messages=[text("x")]))
    assert made_up.value.status == 400
    assert line.stats["rejected"]["invalid_reply_token"] == 2


# ==== push, quota, retry key ========================================================================
async def test_push_counts_recipients_not_message_objects_and_stops_at_the_monthly_quota(
    line: LineStandin, api: AsyncMessagingApi, clock: Clock
) -> None:
    line.monthly_quota = 2
    user = new_user_id()
    await line.user_follows(user)
    await api.push_message(PushMessageRequest(to=user, messages=[text(str(i)) for i in range(5)]))
    assert line.pushes_used == 1  # one push of 5 message objects to one user counts 1
    await api.push_message(PushMessageRequest(to=user, messages=[text("6")]))
    quota = await api.get_message_quota()
    assert (quota.type, quota.value) == ("limited", 2)
    assert (await api.get_message_quota_consumption()).total_usage == 2
    with pytest.raises(ApiException) as over:
        await api.push_message(PushMessageRequest(to=user, messages=[text("7")]))
    assert over.value.status == 429
    assert body_of(over.value) == {"message": "You have reached your monthly limit."}
    assert len(line.messages(user)) == 6 and line.stats["rejected"]["monthly_limit"] == 1
    clock.advance(15 * 60)  # 2026-04-01 00:05: a new month
    assert line.pushes_used == 0
    await api.push_message(PushMessageRequest(to=user, messages=[text("April")]))
    assert line.texts(user)[-1] == "April"


async def test_without_a_quota_the_quota_type_is_none(line: LineStandin, api: AsyncMessagingApi) -> None:
    assert (await api.get_message_quota()).type == "none"


async def test_a_retry_key_already_accepted_answers_409_and_records_once(
    line: LineStandin, api: AsyncMessagingApi, clock: Clock
) -> None:
    user = new_user_id()
    await line.user_follows(user)
    key = str(uuid.uuid4())
    req = PushMessageRequest(to=user, messages=[text("朝の運動の時間です")])
    first = await api.push_message_with_http_info(req, x_line_retry_key=key)
    with pytest.raises(ApiException) as again:
        await api.push_message_with_http_info(req, x_line_retry_key=key)
    assert again.value.status == 409
    assert body_of(again.value)["message"] == "The retry key is already accepted"
    assert again.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert again.value.headers["x-line-request-id"] != first.headers["x-line-request-id"]
    assert line.texts(user) == ["朝の運動の時間です"] and line.pushes_used == 1
    assert line.messages(user)[0].retry_key == key
    clock.advance(24 * 3600)  # a retry key lives 24 hours
    await api.push_message_with_http_info(req, x_line_retry_key=key)
    assert len(line.messages(user)) == 2

    with pytest.raises(ApiException) as malformed:
        await api.push_message_with_http_info(req, x_line_retry_key="not-a-uuid")
    assert malformed.value.status == 400


async def test_a_push_to_a_user_who_blocked_the_account_is_accepted_but_not_delivered_or_counted(
    line: LineStandin, api: AsyncMessagingApi
) -> None:
    user = new_user_id()
    await line.user_follows(user)
    await line.user_unfollows(user)
    resp = await api.push_message_with_http_info(PushMessageRequest(to=user, messages=[text("hello?")]))
    assert resp.status_code == 200 and len(resp.data.sent_messages) == 1
    assert line.messages(user) == [] and line.pushes_used == 0 and line.stats["undelivered"] == 1
    with pytest.raises(ApiException) as gone:
        await api.get_profile(user)
    assert gone.value.status == 404 and body_of(gone.value) == {"message": "Not found"}
    await line.user_follows(user)  # unblocked
    assert line.last_event()["follow"] == {"isUnblocked": True}
    await api.push_message(PushMessageRequest(to=user, messages=[text("おかえりなさい")]))
    assert line.texts(user) == ["おかえりなさい"]


async def test_a_push_to_an_unknown_user_fails(line: LineStandin, api: AsyncMessagingApi) -> None:
    with pytest.raises(ApiException) as unknown:
        await api.push_message(PushMessageRequest(to=new_user_id(), messages=[text("x")]))
    assert unknown.value.status == 400 and body_of(unknown.value) == {"message": "Failed to send messages"}


# ==== validation and auth ===========================================================================
async def test_fourteen_quick_replies_a_long_label_and_long_data_are_400_with_properties(
    line: LineStandin, api: AsyncMessagingApi
) -> None:
    user = new_user_id()
    await line.user_follows(user)
    # The SDK itself refuses 14 items (pydantic max_items=13); construct() skips that, as another client would.
    items = [QuickReplyItem(action=PostbackAction(label=f"b{i}", data="x")) for i in range(14)]
    items[0] = QuickReplyItem(action=PostbackAction.construct(type="postback", label="x" * 21, data="y" * 301))
    msg = TextMessage(text="choose", quick_reply=QuickReply.construct(items=items))
    with pytest.raises(ApiException) as bad:
        await api.push_message(PushMessageRequest(to=user, messages=[msg]))
    body = body_of(bad.value)
    assert bad.value.status == 400 and body["message"] == "The request body has 3 error(s)"
    assert [d["property"] for d in body["details"]] == [
        "messages[0].quickReply.items",
        "messages[0].quickReply.items[0].action.label",
        "messages[0].quickReply.items[0].action.data",
    ]
    assert line.messages(user) == [] and line.pushes_used == 0


async def test_text_length_and_media_urls_are_checked(line: LineStandin, api: AsyncMessagingApi) -> None:
    user = new_user_id()
    await line.user_follows(user)
    await api.push_message(PushMessageRequest(to=user, messages=[text("あ" * 5000)]))
    img = ImageMessage(original_content_url="http://127.0.0.1:9/a.png", preview_image_url="https://x.test/p.png")
    await api.push_message(PushMessageRequest(to=user, messages=[img]))
    with pytest.raises(ApiException) as bad:
        await api.push_message(PushMessageRequest(to=user, messages=[
            text("😀" * 2501),  # surrogate pairs count 2: 5002 characters
            ImageMessage(original_content_url="http://example.com/a.png", preview_image_url="https://x.test/p.png"),
        ]))
    assert [d["property"] for d in body_of(bad.value)["details"]] == [
        "messages[0].text", "messages[1].originalContentUrl"]
    line.allow_http_media = False
    with pytest.raises(ApiException):
        await api.push_message(PushMessageRequest(to=user, messages=[img]))
    assert len(line.messages(user)) == 2


async def test_a_wrong_token_is_401(line: LineStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with AsyncApiClient(Configuration(host=line.base_url, access_token="wrong")) as client:
        with pytest.raises(ApiException) as denied:
            await AsyncMessagingApi(client).get_bot_info()
    assert denied.value.status == 401
    assert body_of(denied.value)["message"].startswith("Authentication failed.")
    assert denied.value.headers["x-line-request-id"]


async def test_bot_info_and_profile(line: LineStandin, api: AsyncMessagingApi) -> None:
    info = await api.get_bot_info()
    assert info.user_id == line.bot_user_id and info.display_name
    user = new_user_id()
    line.set_profile(user, "山田")
    profile = await api.get_profile(user)
    assert (profile.user_id, profile.display_name, profile.language) == (user, "山田", "ja")
    with pytest.raises(ApiException) as unknown:
        await api.get_profile(new_user_id())
    assert unknown.value.status == 404


# ==== faults ========================================================================================
async def test_faults_record_and_count_nothing(line: LineStandin, api: AsyncMessagingApi) -> None:
    line.monthly_quota = 10
    user = new_user_id()
    await line.user_sends_text(user, "hi")
    token = line.last_event()["replyToken"]
    line.fail_next(1, status=500, path="reply")
    line.fail_next(1, status=429, path="push")
    with pytest.raises(ApiException) as rate:
        await api.push_message(PushMessageRequest(to=user, messages=[text("p")]))
    assert rate.value.status == 429
    assert body_of(rate.value) == {"message": "The API rate limit has been exceeded. Try again later."}
    with pytest.raises(ApiException) as boom:
        await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[text("r")]))
    assert boom.value.status == 500
    assert line.messages(user) == [] and line.pushes_used == 0
    await api.reply_message(ReplyMessageRequest(reply_token=token, messages=[text("r")]))  # token not spent
    assert line.texts(user) == ["r"]


async def test_random_5xx_is_reproducible_with_a_seed(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    outcomes = []
    for _ in range(2):
        async with LineStandin(SECRET, TOKEN, now=clock, error_5xx_rate=0.5, seed=7) as line:
            user = new_user_id()
            line.set_profile(user, "A")
            async with AsyncApiClient(Configuration(host=line.base_url, access_token=TOKEN)) as client:
                api = AsyncMessagingApi(client)
                run = []
                for i in range(12):
                    try:
                        await api.push_message(PushMessageRequest(to=user, messages=[text(str(i))]))
                        run.append(200)
                    except ApiException as exc:
                        run.append(exc.status)
            assert len(line.messages(user)) == run.count(200)
            outcomes.append(run)
    assert outcomes[0] == outcomes[1] and set(outcomes[0]) - {200} <= {500, 502} and 200 in outcomes[0]
    assert len(set(outcomes[0])) > 1


async def test_push_rate_per_second(line: LineStandin, api: AsyncMessagingApi, clock: Clock) -> None:
    line.push_rate_per_second = 2
    user = new_user_id()
    await line.user_follows(user)
    for i in range(2):
        await api.push_message(PushMessageRequest(to=user, messages=[text(str(i))]))
    with pytest.raises(ApiException) as fast:
        await api.push_message(PushMessageRequest(to=user, messages=[text("2")]))
    assert body_of(fast.value)["message"].startswith("The API rate limit")
    clock.advance(1)
    await api.push_message(PushMessageRequest(to=user, messages=[text("3")]))
    assert line.texts(user) == ["0", "1", "3"]


# ==== webhooks ======================================================================================
async def test_webhooks_are_signed_and_parse_as_sdk_events(
    line: LineStandin, receiver: tuple[Receiver, str], clock: Clock
) -> None:
    rec, _ = receiver
    user = new_user_id()
    assert await line.user_follows(user) == 200
    await line.user_sends_text(user, "痛みは3です")
    await line.user_presses(user, "rt:3")
    await line.user_unfollows(user)
    follow, message, postback, unfollow = rec.events
    assert isinstance(follow, FollowEvent) and follow.follow.is_unblocked is False and follow.reply_token
    assert isinstance(message, MessageEvent) and message.message.text == "痛みは3です"
    assert message.source.user_id == user and message.message.quote_token
    assert message.timestamp == int(clock().timestamp() * 1000) and message.mode.value == "active"
    assert message.delivery_context.is_redelivery is False
    assert isinstance(postback, PostbackEvent) and postback.postback.data == "rt:3"
    assert isinstance(unfollow, UnfollowEvent) and "replyToken" not in line.events[-1]
    assert all(raw["destination"] == line.bot_user_id for raw in rec.raw)
    ids = [e.webhook_event_id for e in rec.events]
    assert len(set(ids)) == 4 and all(len(i) == 26 for i in ids)
    assert len({e["replyToken"] for e in line.events[:3]}) == 3


async def test_a_wrong_signature_is_what_a_receiver_must_reject(
    line: LineStandin, receiver: tuple[Receiver, str]
) -> None:
    rec, _ = receiver
    body = json.dumps({"destination": line.bot_user_id, "events": []}).encode()
    assert await line.post_raw(body, line.sign(body)) == 200  # LINE's connection check: no events
    assert await line.post_raw(body, line.sign(body + b" ")) == 400
    assert await line.post_raw(body, None) == 400
    assert rec.rejected == 2


async def test_redelivery_keeps_the_event_id_and_issues_no_new_reply_token(
    line: LineStandin, receiver: tuple[Receiver, str]
) -> None:
    rec, _ = receiver
    user = new_user_id()
    await line.user_sends_text(user, "x")
    event = line.last_event()
    await line.redeliver(event)
    first, again = rec.events
    assert again.delivery_context.is_redelivery is True
    assert (again.webhook_event_id, again.reply_token) == (first.webhook_event_id, first.reply_token)


async def test_group_messages_carry_a_group_source(
    line: LineStandin, receiver: tuple[Receiver, str], api: AsyncMessagingApi
) -> None:
    rec, _ = receiver
    user, group = new_user_id(), new_group_id()
    await line.user_sends_text(user, "@coach hi", group_id=group)
    [event] = rec.events
    assert (event.source.type, event.source.group_id, event.source.user_id) == ("group", group, user)
    await api.reply_message(ReplyMessageRequest(reply_token=event.reply_token, messages=[text("個別にどうぞ")]))
    assert line.texts(group) == ["個別にどうぞ"] and line.texts(user) == []


async def test_quick_replies_buttons_and_waiting(line: LineStandin, api: AsyncMessagingApi) -> None:
    user = new_user_id()
    await line.user_follows(user)
    items = [QuickReplyItem(action=PostbackAction(label="できた", data="rt:done")),
             QuickReplyItem(action=MessageAction(label="あとで", text="あとで"))]
    await api.push_message(PushMessageRequest(to=user, messages=[
        text("first"), TextMessage(text="今日の運動は？", quick_reply=QuickReply(items=items))]))
    got = await line.wait_for_messages(user, 2)
    assert [m.via for m in got] == ["push", "push"]
    assert line.last_quick_replies(user) == [("できた", "rt:done"), ("あとで", "あとで")]
    assert line.button(user, "できた") == "rt:done"
    with pytest.raises(NoSuchButton, match="buttons: \\['できた', 'あとで'\\]"):
        line.button(user, "やめる")
    await line.user_taps(user, "できた")
    assert line.last_event()["postback"] == {"data": "rt:done"}
    await line.user_taps(user, "あとで")
    assert line.last_event()["message"]["text"] == "あとで"
    with pytest.raises(AssertionError, match="expected >= 3"):
        await line.wait_for_messages(user, 3, timeout=0)


async def test_without_a_webhook_events_are_only_kept(clock: Clock) -> None:
    async with LineStandin(SECRET, TOKEN, now=clock) as line:
        assert await line.user_sends_text(new_user_id(), "x") is None
        assert line.last_event()["message"]["text"] == "x"
        line.reset()
        assert line.events == [] and line.stats["webhooks"] == 0


async def test_unknown_paths_answer_json_404(line: LineStandin) -> None:
    async with aiohttp.ClientSession() as session, session.get(
        f"{line.base_url}/v2/bot/nothing", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as resp:
        assert resp.status == 404 and await resp.json() == {"message": "Not found"}
        assert resp.headers["x-line-request-id"]


# ==== packaging =====================================================================================
def test_the_command_line() -> None:
    args = parse_args(["--port", "8082", "--secret", "S", "--token", "T", "--quota", "500"])
    assert (args.port, args.secret, args.token, args.quota, args.webhook) == (8082, "S", "T", 500, None)


def test_line_standin_imports_only_the_standard_library_and_aiohttp() -> None:
    allowed = set(sys.stdlib_module_names) | {"aiohttp", "line_standin"}
    found = set()
    for path in Path(__file__).resolve().parents[2].joinpath("line_standin").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    assert found <= allowed, found - allowed
