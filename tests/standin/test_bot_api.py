"""The stand-in driven by a real ``telegram.Bot`` (PTB's HTTPXRequest) over 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from telegram_standin import Faults, StandIn

from .conftest import TOKEN, USER, FakeClock

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def retry_seconds(exc: RetryAfter) -> float:
    """retry_after as seconds, whether PTB gives an int (default) or a timedelta (PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("はい", callback_data="yes"), InlineKeyboardButton("いいえ", callback_data="no")],
        [InlineKeyboardButton("詳細", url="https://example.org/")],
    ]
)


async def test_get_me(bot, standin: StandIn) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "itami_coach_bot"
    assert standin.stats["requests"]["getMe"] >= 1


async def test_send_message_with_inline_keyboard_is_stored(bot, standin: StandIn) -> None:
    sent = await bot.send_message(USER, "痛みはどうですか？", reply_markup=KEYBOARD, disable_notification=True)
    assert sent.chat.id == USER
    assert sent.chat.type == "private"
    assert sent.from_user.is_bot
    assert sent.text == "痛みはどうですか？"
    assert sent.reply_markup == KEYBOARD

    msg = standin.last_message(USER)
    assert msg is not None
    assert msg.message_id == sent.message_id
    assert msg.kind == "text"
    assert msg.text == "痛みはどうですか？"
    assert msg.buttons == [[("はい", "yes"), ("いいえ", "no")], [("詳細", None)]]
    assert msg.disable_notification
    assert standin.messages(USER) == [msg]
    assert standin.stats["messages_delivered"] == 1

    second = await bot.send_message(USER, "次へ")
    assert second.message_id == sent.message_id + 1


async def test_reply_keyboards_are_stored_but_not_echoed(bot, standin: StandIn) -> None:
    markup = ReplyKeyboardMarkup([[KeyboardButton("0"), KeyboardButton("5")], ["10"]], one_time_keyboard=True)
    sent = await bot.send_message(USER, "痛みを0〜10で", reply_markup=markup)
    assert sent.reply_markup is None
    assert standin.last_message(USER).reply_keyboard == [["0", "5"], ["10"]]
    await bot.send_message(USER, "ありがとう", reply_markup=ReplyKeyboardRemove())
    assert standin.last_message(USER).removes_keyboard


async def test_parse_mode_html_is_stripped_and_validated(bot, standin: StandIn) -> None:
    sent = await bot.send_message(USER, "<b>今日</b> &lt;3", parse_mode=ParseMode.HTML)
    assert sent.text == "今日 <3"
    assert standin.last_message(USER).text == "<b>今日</b> &lt;3"
    assert standin.last_message(USER).plain == "今日 <3"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "a < b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(USER, "done.", parse_mode=ParseMode.MARKDOWN_V2)
    assert len(standin.messages(USER)) == 1


async def test_text_validation_errors(bot, standin: StandIn) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "あ" * 4097)
    await bot.send_message(USER, "あ" * 4096)
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=bad)
    assert len(standin.messages(USER)) == 1
    assert standin.stats["rejected_400"] == 3


async def test_user_text_reaches_get_updates(bot, standin: StandIn) -> None:
    raw = await standin.user_sends_text(USER, "腰が痛い", first_name="花子", username="hanako")
    updates = await bot.get_updates()
    assert len(updates) == 1
    update = updates[0]
    assert update.update_id == raw["update_id"]
    assert update.message.text == "腰が痛い"
    assert update.message.from_user.id == USER
    assert update.message.from_user.first_name == "花子"
    assert update.message.from_user.language_code == "ja"
    assert not update.message.from_user.is_bot
    assert update.message.chat.id == USER
    assert update.message.chat.username == "hanako"
    assert update.effective_user.username == "hanako"
    # Update.de_json on the raw dict works too
    assert Update.de_json(raw, bot).message.text == "腰が痛い"


async def test_commands_carry_bot_command_entity(bot, standin: StandIn) -> None:
    await standin.user_sends_text(USER, "/start hello")
    (update,) = await bot.get_updates()
    entity = update.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, len("/start"))


async def test_sticker_and_photo_updates(bot, standin: StandIn) -> None:
    await standin.user_sends_sticker(USER)
    await standin.user_sends_photo(USER, caption="フォーム")
    sticker, photo = await bot.get_updates()
    assert sticker.message.sticker.emoji == "👍"
    assert photo.message.photo[-1].width == 1280
    assert photo.message.caption == "フォーム"
    assert sticker.message.message_id < photo.message.message_id


async def test_offset_confirms_updates(bot, standin: StandIn) -> None:
    await standin.user_sends_text(USER, "1")
    await standin.user_sends_text(USER, "2")
    first = await bot.get_updates(limit=1)
    assert [u.message.text for u in first] == ["1"]
    assert standin.pending_updates == 2
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["2"]
    assert standin.pending_updates == 1
    await bot.get_updates(offset=rest[-1].update_id + 1)
    await standin.wait_for_updates_consumed(timeout=1)
    assert standin.pending_updates == 0


async def test_long_poll_returns_when_text_arrives(bot, standin: StandIn) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await standin.wait_until(lambda: standin.stats["requests"].get("getUpdates", 0) >= 1, timeout=5)
    await standin.user_sends_text(USER, "起きた")
    updates = await poll
    assert [u.message.text for u in updates] == ["起きた"]


async def test_button_press_and_answer(bot, standin: StandIn) -> None:
    sent = await bot.send_message(USER, "痛みは？", reply_markup=KEYBOARD)
    query_id = await standin.user_presses(USER, sent.message_id, button_text="いいえ")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query.id == query_id
    assert query.data == "no"
    assert query.from_user.id == USER
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == KEYBOARD
    assert query.chat_instance

    assert await bot.answer_callback_query(query.id, text="了解", show_alert=True)
    assert standin.callback_answers == [(query_id, "了解", True)]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nope")


async def test_press_by_data_forged_and_raw(bot, standin: StandIn) -> None:
    sent = await bot.send_message(USER, "痛みは？", reply_markup=KEYBOARD)
    await standin.user_presses(USER, sent.message_id, data="yes")
    other_user = USER + 1
    await standin.user_presses(other_user, sent.message_id, data="yes", chat_id=USER)  # forged
    await standin.user_presses_raw(USER, "evil:payload", 999)
    own, forged, raw = await bot.get_updates()
    assert own.callback_query.data == "yes"
    assert forged.callback_query.from_user.id == other_user
    assert forged.callback_query.message.chat.id == USER
    assert raw.callback_query.data == "evil:payload"
    assert not raw.callback_query.message.is_accessible
    with pytest.raises(LookupError):
        await standin.user_presses(USER, 999, data="yes")
    with pytest.raises(KeyError):
        await standin.user_presses(USER, sent.message_id, button_text="存在しない")


async def test_edit_message_text_and_not_modified(bot, standin: StandIn) -> None:
    sent = await bot.send_message(USER, "v1", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD)
    assert edited.text == "v2"
    assert edited.edit_date is not None
    msg = standin.last_message(USER)
    assert (msg.text, msg.edits) == ("v2", 1)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD)
    # Without reply_markup the inline keyboard goes away, as on Telegram.
    await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id)
    assert msg.buttons == [] and msg.edits == 2
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=12345)
    assert standin.stats["edits"] == 2
    assert standin.stats["messages_delivered"] == 1


async def test_edit_reply_markup_caption_and_delete(bot, standin: StandIn) -> None:
    sent = await bot.send_message(USER, "q", reply_markup=KEYBOARD)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    assert standin.last_message(USER).buttons == []
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)no caption"):
        await bot.edit_message_caption(USER, sent.message_id, caption="c")
    photo = await bot.send_photo(USER, b"\x89PNG fake", caption="before")
    await bot.edit_message_caption(USER, photo.message_id, caption="after")
    assert standin.last_message(USER).caption == "after"
    assert await bot.delete_message(USER, sent.message_id)
    assert standin.messages(USER)[0].deleted
    assert len(standin.messages(USER, include_deleted=False)) == 1
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_blocked_user_is_forbidden(bot, standin: StandIn) -> None:
    standin.block(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")
    assert standin.messages(USER) == []
    assert standin.stats["rejected_403"] == 2
    standin.unblock(USER)
    await bot.send_message(USER, "hello")
    assert len(standin.messages(USER)) == 1


async def test_global_rate_limit_raises_retry_after(bot, standin: StandIn, clock: FakeClock) -> None:
    standin.set_limits(global_rate=2)
    await bot.send_message(USER, "1")
    await bot.send_message(USER + 1, "2")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "3")
    assert retry_seconds(info.value) >= 1
    assert [m.text for m in standin.all_messages()] == ["1", "2"]
    assert standin.stats["rejected_429"] == 1
    clock.advance(1.0)
    await bot.send_message(USER, "3")
    assert standin.last_message(USER).text == "3"


async def test_per_chat_rate_limit(bot, standin: StandIn, clock: FakeClock) -> None:
    standin.set_limits(per_chat_rate=1)
    await bot.send_message(USER, "a")
    await bot.send_message(USER + 1, "b")  # other chats are unaffected
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "c")
    clock.advance(0.5)
    with pytest.raises(RetryAfter) as info:
        await bot.edit_message_text("a2", chat_id=USER, message_id=1)
    assert retry_seconds(info.value) == 1
    clock.advance(0.5)
    await bot.send_message(USER, "c")
    await bot.send_chat_action(USER, "typing")  # chat actions are not rate limited
    standin.set_limits(per_chat_rate=None)
    await bot.send_message(USER, "d")
    assert [m.text for m in standin.messages(USER)] == ["a", "c", "d"]


async def test_5xx_fault_records_nothing(bot, standin: StandIn) -> None:
    standin.set_faults(Faults(error_5xx_rate=1.0))
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "lost")
    assert standin.messages(USER) == []
    assert standin.stats["faults_5xx"] == 1
    assert standin.stats["messages_delivered"] == 0
    standin.set_faults(None)
    await bot.send_message(USER, "ok")
    assert [m.text for m in standin.messages(USER)] == ["ok"]


async def test_429_burst(bot, standin: StandIn) -> None:
    standin.set_faults(Faults(burst_429_count=2, burst_429_retry_after=3))
    for _ in range(2):
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(USER, "x")
        assert retry_seconds(info.value) == 3
    await bot.send_message(USER, "x")
    assert len(standin.messages(USER)) == 1
    assert standin.stats["rejected_429_burst"] == 2


async def test_timeout_fault_holds_and_records_nothing(bot, standin: StandIn) -> None:
    standin.set_faults(Faults(timeout_rate=1.0, timeout_seconds=60))
    send = asyncio.create_task(bot.send_message(USER, "held"))
    await standin.wait_until(lambda: standin.stats["timeouts"] == 1, timeout=5)
    assert not send.done()
    send.cancel()
    with pytest.raises((asyncio.CancelledError, TimedOut, NetworkError)):
        await send
    assert standin.messages(USER) == []
    assert standin.stats["messages_delivered"] == 0


def test_blocked_rate_is_deterministic() -> None:
    def blocked(seed: int) -> list[int]:
        tg = StandIn(faults=Faults(blocked_rate=0.3), seed=seed)
        return [cid for cid in range(1, 201) if tg.api.is_blocked(cid)]

    assert blocked(1) == blocked(1)
    assert blocked(1) != blocked(2)
    assert 20 < len(blocked(1)) < 100


async def test_blocked_rate_answers_403(bot, standin: StandIn) -> None:
    standin.set_faults(Faults(blocked_rate=0.5), seed=3)
    results = {}
    for cid in range(1, 21):
        try:
            await bot.send_message(cid, "hi")
            results[cid] = True
        except Forbidden:
            results[cid] = False
    assert True in results.values() and False in results.values()
    assert all(bool(standin.messages(cid)) == ok for cid, ok in results.items())


async def test_photo_and_document_round_trip(bot, standin: StandIn) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\x80" + b"\x00" * 32
    photo = await bot.send_photo(USER, png, caption="フォーム図")
    assert photo.caption == "フォーム図"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (256, 128)
    doc = await bot.send_document(USER, "記録,痛み\n1,3\n".encode(), filename="log.csv", caption="記録")
    assert doc.document.file_name == "log.csv"
    assert doc.document.mime_type == "text/csv"
    first, second = standin.messages(USER)
    assert (first.kind, first.file_bytes, first.caption) == ("photo", png, "フォーム図")
    assert (second.kind, second.file_name) == ("document", "log.csv")
    assert second.file_bytes == "記録,痛み\n1,3\n".encode()
    # re-send by file_id and by URL
    again = await bot.send_photo(USER, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    await bot.send_document(USER, "https://example.org/guide.pdf")
    assert standin.last_message(USER).file_name == "guide.pdf"
    # download through base_file_url
    f = await bot.get_file(doc.document.file_id)
    assert bytes(await f.download_as_bytearray()) == second.file_bytes


async def test_set_my_commands_is_stored(bot, standin: StandIn) -> None:
    await bot.set_my_commands([BotCommand("start", "はじめる"), BotCommand("pain", "痛みを記録")])
    await bot.set_my_commands(
        [BotCommand("start", "start")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    assert standin.commands_for() == [("start", "はじめる"), ("pain", "痛みを記録")]
    assert standin.commands[("all_private_chats", "en")] == [{"command": "start", "description": "start"}]
    got = await bot.get_my_commands()
    assert [c.command for c in got] == ["start", "pain"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_wrong_token_is_invalid_token(standin: StandIn) -> None:
    from telegram import Bot

    with pytest.raises(InvalidToken):
        async with Bot("999:wrong-token", base_url=standin.base_url):
            pass
    with pytest.raises(InvalidToken):
        async with Bot("not-a-token", base_url=standin.base_url):
            pass


async def test_any_token_accepted_without_token(clock: FakeClock) -> None:
    from telegram import Bot

    async with StandIn() as tg, Bot("42:anything", base_url=f"{tg.base_url}{{token}}") as b:
        assert b.id == 42
        await b.send_message(5, "hi")
        assert tg.last_message(5).text == "hi"


async def test_strict_chats(clock: FakeClock) -> None:
    from telegram import Bot

    async with StandIn(TOKEN, strict_chats=True) as tg, Bot(TOKEN, base_url=tg.base_url) as b:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await b.send_message(USER, "hi")
        await tg.user_sends_text(USER, "/start")
        await b.send_message(USER, "hi")


async def test_wait_for_messages(bot, standin: StandIn) -> None:
    waiter = asyncio.create_task(standin.wait_for_messages(USER, 2, timeout=5))
    await bot.send_message(USER, "1")
    await bot.send_message(USER, "2")
    msgs = await waiter
    assert [m.text for m in msgs] == ["1", "2"]


async def test_wait_for_messages_timeout_names_the_chat(bot, standin: StandIn) -> None:
    await bot.send_message(USER, "only one")
    with pytest.raises(AssertionError, match=f"chat {USER}") as info:
        await standin.wait_for_messages(USER, 2, timeout=0.01)
    assert "only one" in str(info.value)


async def test_unknown_method_and_misc(bot, standin: StandIn) -> None:
    from telegram.error import EndPointNotFound

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    assert await bot.delete_webhook()
    assert await bot.log_out()
    assert await bot.close()
    assert await bot.send_chat_action(USER, "typing")
    assert standin.stats["chat_actions"] == 1
