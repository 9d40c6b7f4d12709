"""python -m bot [--webhook] [run | migrate | status | backup [PATH] | chat | demo]   (run: long polling).

Only the settings are imported up front: a missing token or a bad setting is answered in one line before
python-telegram-bot, SQLAlchemy and the handlers are imported."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import ConfigError, StartupError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Itami Coach Telegram bot")
    parser.add_argument("--webhook", action="store_true", help="receive updates by webhook (WEBHOOK_* settings)")
    sub = parser.add_subparsers(dest="command")
    run_cmd = sub.add_parser("run", help="run the bot with long polling (default)")
    run_cmd.add_argument("--webhook", action="store_true", help="receive updates by webhook instead")
    sub.add_parser("migrate", help="create or upgrade the database schema, then exit")
    sub.add_parser("status", help="print delivery queue depth, last delivery and errors")
    backup_cmd = sub.add_parser("backup", help="copy the database to PATH while the bot runs (docs/operations.md)")
    backup_cmd.add_argument("path", nargs="?", default=None,
                            help="where to write it (default backups/<name>-<UTC time>.db or .dump)")
    chat = sub.add_parser("chat", help="try the coach in this terminal, without Telegram")
    chat.add_argument("--database", default="sqlite+aiosqlite:///chat-demo.db", help="database URL")
    chat.add_argument("--reset", action="store_true", help="start afresh: delete the try-out database and files")
    chat.add_argument("--files", default="chat-files", help="folder for pictures and documents the bot sends")
    demo = sub.add_parser("demo", help="chat mode on a made-up clinic of 30 patients over 6 weeks (docs/clinicians.md)")
    demo.add_argument("--database", default="sqlite+aiosqlite:///clinic-demo.db", help="database URL (rebuilt)")
    demo.add_argument("--files", default="demo-files", help="folder for pictures and documents the bot sends")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo(args.database, args.files))
        if args.command == "chat":
            from bot.chat import run_chat

            return asyncio.run(run_chat(args.database, reset=args.reset, files=args.files))
        settings = load_settings()
        if args.command == "migrate":
            from bot.ops import migrate

            return asyncio.run(migrate(settings))
        if args.command == "backup":
            from bot.ops import backup

            return backup(settings, args.path)
        if args.command == "status":
            from bot.ops import status

            return asyncio.run(status(settings))
        return run(settings, webhook=args.webhook)
    except ConfigError as exc:
        print(f"itami-coach: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"itami-coach: {exc}", file=sys.stderr)
        return 1


def run(settings, *, webhook: bool = False) -> int:
    """Long polling (one instance), or webhook (several instances behind a load balancer)."""
    token = settings.require_token()  # checked before the heavy imports below
    if settings.line_enabled:
        settings.require_line()  # both LINE secrets and the public URL, or one line saying what is missing
    if webhook:
        settings.require_webhook()

    from telegram.error import InvalidToken, NetworkError

    from bot import logs
    from bot.app import build_application
    from bot.ops import preflight
    from bot.updates import run as receive_updates

    logs.setup(settings.log_level, token, settings.log_format)
    asyncio.run(preflight(settings, token))  # database and token checked: failures are one line
    app = build_application(settings, token=token, migrate=False)
    try:  # our own receiving: an update is confirmed to Telegram only once it is in the inbox (bot/updates.py)
        asyncio.run(receive_updates(app, settings, webhook=webhook))
    except (InvalidToken, NetworkError) as exc:  # revoked or unreachable between the check and the start
        raise StartupError(f"Telegram: {logs.redact(str(exc), token)}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
