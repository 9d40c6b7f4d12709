"""The command menus Telegram shows: patients' for everyone, plus clinicians' and admins' commands in
their own chats (set when a clinician joins, for admins at start-up; removed with the clinician)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import t

log = logging.getLogger(__name__)

PATIENT = ("start", "trial", "today", "history", "settings", "symptom", "ask", "why", "help", "privacy", "mydata",
           "delete")
CLINICIAN = ("summary", "patients", "patient", "export", "clear", "reply", "note", "memo", "pause", "resume")
ADMIN = ("invite", "clinicians", "remove_clinician", "assign")


def commands(names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, t(f"command.{name}")) for name in names]


async def set_patient_menu(bot: Bot) -> None:
    await bot.set_my_commands(commands(PATIENT))


async def set_chat_menu(bot: Bot, chat_id: int, *, admin: bool = False) -> None:
    """A clinician's (or admin's) chat: their commands first, then the patients' ones."""
    names = CLINICIAN + (ADMIN if admin else ()) + PATIENT
    try:
        await bot.set_my_commands(commands(names), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:  # e.g. an admin who never opened the bot: the commands still work
        log.warning("could not set the command menu for chat %s: %s", chat_id, type(exc).__name__)


async def clear_chat_menu(bot: Bot, chat_id: int) -> None:
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("could not clear the command menu for chat %s: %s", chat_id, type(exc).__name__)
