"""A real PTB Application (updater long-polling) talking to the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from telegram_standin import StandIn

from .conftest import TOKEN, USER


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("今日の運動", callback_data="today")]])
    await update.effective_message.reply_text("ようこそ", reply_markup=keyboard)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("OK")
    await query.edit_message_text(f"選択: {query.data}")


@pytest.fixture
async def app(standin: StandIn) -> AsyncIterator[Application]:
    application = ApplicationBuilder().token(TOKEN).base_url(standin.base_url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    async with application:
        await application.start()
        await application.updater.start_polling(timeout=5)
        yield application
        await application.updater.stop()
        await application.stop()


async def test_command_then_button(app: Application, standin: StandIn) -> None:
    await standin.user_sends_text(USER, "/start")
    (welcome,) = await standin.wait_for_messages(USER, 1)
    assert welcome.text == "ようこそ"
    assert welcome.buttons == [[("今日の運動", "today")]]

    query_id = await standin.user_presses(USER, welcome.message_id, button_text="今日の運動")
    await standin.wait_until(lambda: welcome.edits == 1)
    assert welcome.text == "選択: today"
    assert welcome.buttons == []
    assert standin.callback_answers == [(query_id, "OK", False)]
    await standin.wait_for_updates_consumed()
