"""python -m bot [run | migrate | status | chat]   (run: long polling against Telegram)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Itami Coach Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot with long polling (default)")
    sub.add_parser("migrate", help="create or upgrade the database schema, then exit")
    sub.add_parser("status", help="print delivery queue depth, last delivery and errors")
    chat = sub.add_parser("chat", help="try the coach in this terminal, without Telegram")
    chat.add_argument("--database", default="sqlite+aiosqlite:///chat-demo.db", help="database URL")
    args = parser.parse_args(argv)
    try:
        if args.command == "chat":
            from bot.chat import run_chat

            return asyncio.run(run_chat(args.database))
        settings = load_settings()
        if args.command == "migrate":
            from bot.ops import migrate

            return asyncio.run(migrate(settings))
        if args.command == "status":
            from bot.ops import status

            return asyncio.run(status(settings))
        return run(settings)
    except ConfigError as exc:
        print(f"itami-coach: {exc}", file=sys.stderr)
        return 2


def run(settings) -> int:
    from telegram import Update

    from bot import logs
    from bot.app import build_application

    token = settings.require_token()
    logs.setup(settings.log_level, token)
    app = build_application(settings, token=token)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
