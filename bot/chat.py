"""`python -m bot chat`: try the coach in a terminal, without Telegram and without a token.

The real bot runs against the Bot API stand-in on 127.0.0.1, on an embedded SQLite file. You type as
the patient; the bot's messages are printed with numbered buttons.
  text            send it (e.g. /start, ３, 7:30)
  :1              press button 1 of the newest message that has buttons
  :+30m :+2h :+1d move the clock forward (reminders and questions that fall due are delivered)
  :q              quit
"""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import timedelta

from bot.app import build_application
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import t
from bot.standin import StandIn

USER_ID = 10001
DEMO_TOKEN = "123456789:CHATdemoCHATdemoCHATdemoCHATdemo00"
TRAVEL = re.compile(r"^:\+(\d+)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class Terminal:
    def __init__(self, standin: StandIn, out=sys.stdout) -> None:
        self.standin = standin
        self.out = out
        self.shown = 0
        self.buttons: list[tuple[int, str]] = []  # (message_id, callback data) for the numbers shown

    def show_new(self) -> None:
        messages = self.standin.messages(USER_ID)
        for msg in messages[self.shown:]:
            body = msg.body or f"[{msg.kind}: {msg.file_name or ''}]"
            print(f"\n🤖 {body}", file=self.out)
            if msg.buttons:
                self.buttons = []
                labels = []
                for row in msg.buttons:
                    for text, data in row:
                        self.buttons.append((msg.message_id, data))
                        labels.append(f"[{len(self.buttons)}] {text}")
                print("   " + "  ".join(labels), file=self.out)
        self.shown = len(messages)
        self.out.flush()


async def _settle(standin: StandIn, before: int) -> None:
    """Wait until the bot took the update and (usually) answered; a press may get no new message."""
    try:
        await standin.wait_for_updates_consumed(timeout=5)
        await standin.wait_until(lambda: len(standin.messages(USER_ID)) > before, timeout=2)
    except (AssertionError, TimeoutError):
        pass


async def run_chat(database_url: str, lines=None, out=sys.stdout) -> int:
    clock = Clock()
    async with StandIn() as standin:
        settings = Settings(_env_file=None, telegram_bot_token=DEMO_TOKEN, database_url=database_url,
                            telegram_api_base_url=standin.base_url, rate_limit_enabled=False,
                            delivery_interval_seconds=1)
        app = build_application(settings, clock=clock, run_delivery_job=False)
        await app.initialize()
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        term = Terminal(standin, out)
        print(__doc__.split("\n\n", 1)[1], file=out)
        print("Start with /start.", file=out)
        loop = asyncio.get_running_loop()
        source = iter(lines) if lines is not None else None
        try:
            while True:
                if source is not None:
                    line = next(source, ":q")
                else:
                    print("\n> ", end="", file=out, flush=True)
                    line = await loop.run_in_executor(None, sys.stdin.readline)
                    if not line:
                        break
                line = line.strip()
                before = len(standin.messages(USER_ID))
                if line in (":q", ":quit"):
                    break
                if not line:
                    continue
                if m := TRAVEL.match(line):
                    clock.travel(timedelta(**{UNITS[m[2]]: int(m[1])}))
                    print(f"⏩ {clock.now().astimezone(settings.tz):%m/%d %H:%M}", file=out)
                    await app.bot_data["delivery"].run_until_idle()
                elif line.startswith(":") and line[1:].isdigit():
                    n = int(line[1:])
                    if not 1 <= n <= len(term.buttons):
                        print("(no such button)", file=out)
                        continue
                    message_id, data = term.buttons[n - 1]
                    await standin.user_presses_raw(USER_ID, data, message_id)
                    await _settle(standin, before)
                else:
                    await standin.user_sends_text(USER_ID, line, first_name=t("chat.demo_name"))
                    await _settle(standin, before)
                await app.bot_data["delivery"].run_until_idle()
                term.show_new()
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)
    return 0
