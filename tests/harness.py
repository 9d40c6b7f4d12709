"""A coach under test: the real Application polls the Bot API stand-in over HTTP on 127.0.0.1.

Time is frozen and travelled (`travel()` moves the clock and runs due deliveries), never slept.
`text()` / `press()` return once the bot has finished handling that update (a group-99 marker handler
records it), so tests never poll or sleep.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from telegram.ext import Application

from bot import callbacks
from bot.app import build_application
from bot.chat import HandledUpdates
from bot.clock import Clock
from bot.config import Settings
from bot.delivery.runner import DeliveryRunner
from bot.line.events import update_id_of
from bot.runtime import Runtime
from bot.updates import Updates, _line_server
from line_standin import LineMessage, LineStandin
from telegram_standin import StandIn

TOKEN = "123456789:TESTtokenTESTtokenTESTtokenTESTtoken00"
LINE_SECRET = "line-channel-secret-for-tests"
LINE_TOKEN = "line-channel-access-token-for-tests"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
# A safety net against a hang, not a measurement: generous, because a loaded machine (two suites side by
# side on two cores) can take seconds to handle one update.
HANDLED_WITHIN = 90.0


def _quick_reply(line: LineStandin, user: str, label: str) -> str:
    """The postback data of the last message's quick reply for `label`: as shown, or numbered and cut to LINE's 20
    characters (bot/line/channel.py lists such choices in full in the text)."""
    for shown, value in line.last_quick_replies(user):
        bare = shown.split(". ", 1)[1] if shown[:1].isdigit() and ". " in shown else shown
        if bare == label or (bare.endswith("…") and label.startswith(bare[:-1])):
            return value
    return line.button(user, label)  # raises, listing what is there


class Coach:
    """The bot on the Telegram stand-in, and on the LINE stand-in too when `line` is given: a user given as a str
    (a LINE user id, line_standin.new_user_id()) writes and taps on LINE, an int on Telegram; the same helpers
    (tests/helpers.py) drive both."""

    def __init__(self, standin: StandIn, database_url: str, start: datetime, *, line: LineStandin | None = None,
                 migrate: bool = False,
                 **settings: Any) -> None:
        self.standin = standin
        self.line = line
        self.clock = Clock(frozen_at=start)
        self._line_server: Any = None
        if line is not None:
            port = free_port()
            line.webhook_url = f"http://127.0.0.1:{port}/line/webhook"
            line.now = self.clock.now
            line.allow_http_media = True
            settings.update(line_channel_secret=LINE_SECRET, line_channel_access_token=LINE_TOKEN,
                            line_api_base_url=line.base_url, line_public_url=f"http://127.0.0.1:{port}",
                            line_port=port)
        # the clock stands still between travels, so no throttle bucket would ever refill: tests of fair use
        # (tests/e2e/test_fair_use.py) give the real limits
        settings.setdefault("throttle_burst", 10_000)
        settings.setdefault("rate_limit_enabled", False)
        # outcome measures add questions at signup and every 14 days: only the tests about them turn them on
        # (tests/e2e/test_outcomes.py), so every other test reads the conversation it was written for
        settings.setdefault("outcomes_enabled", False)
        self.settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=database_url,
                                 telegram_api_base_url=standin.base_url, **settings)
        # the fixtures' databases are migrated already (tests/databases.py): migrating again at every start would
        # load every Alembic script for nothing (~40 ms a coach); `python -m bot` still migrates at its start
        # (tests/e2e/test_crash.py, test_webhook_health.py run it), as do the migration tests
        self.app: Application = build_application(self.settings, clock=self.clock, run_delivery_job=False,
                                                  migrate=migrate)
        self._handled = HandledUpdates(self.app)

    @property
    def rt(self) -> Runtime:
        return self.app.bot_data["runtime"]

    @property
    def runner(self) -> DeliveryRunner:
        return self.app.bot_data["delivery"]

    async def start(self) -> Coach:
        """As `python -m bot` starts (bot/updates.py), with the steps taken by hand."""
        await self.app.initialize()
        await self.app.post_init(self.app)
        self._record_batches()
        await self.app.start()
        self.updates = Updates(self.app)
        self._line_server = await _line_server(self.updates)
        await self.updates.resume()
        self._stop_polling = asyncio.Event()
        self._polling = asyncio.create_task(self.updates.poll(self._stop_polling, timeout=1))
        return self

    async def stop_polling(self) -> None:
        if not self._stop_polling.is_set():
            self._stop_polling.set()
            await self._polling
            await self.updates.drain()

    async def stop(self) -> None:
        self.check_buttons()
        await self.stop_polling()
        if self._line_server is not None:
            await self._line_server.cleanup()
            self._line_server = None
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.app.post_shutdown(self.app)

    async def _handled_by_bot(self, update: dict[str, Any], timeout: float = HANDLED_WITHIN) -> None:  # noqa: ASYNC109
        await self._handled.update(update["update_id"], timeout)

    def _record_batches(self) -> None:
        """Every batch sent through the messaging port (bot/channels.py), checked for buttons on a message that is
        followed by another one (docs/architecture.md, "The messaging port": LINE shows them on the last only)."""
        self.buttons_not_last: list[tuple[int, str]] = []
        port = self.app.bot_data["channels"]
        send = port.send

        async def checked(chat_id, replies, **kwargs):
            self.buttons_not_last += [(chat_id, r.text[:40]) for r in list(replies)[:-1] if r.buttons]
            return await send(chat_id, replies, **kwargs)

        port.send = checked

    def check_buttons(self) -> None:
        """Every button the bot sent in this test parses back with its family's parser (bot/callbacks.py):
        run at every stop, so the whole end-to-end suite checks every button any code path sends."""
        bad = [(m.chat_id, data) for m in self.standin.all_messages() for row in m.buttons for _, data in row
               if data is not None and callbacks.parse(data) is None]
        if self.line is not None:
            bad += [(user, data) for user in self.line.chats() for m in self.line.messages(user)
                    for _, data in m.quick_replies if callbacks.parse(data) is None and not data.startswith("cmd:")]
        assert not bad, f"buttons whose data no parser accepts: {bad[:5]}"
        assert not getattr(self, "buttons_not_last", []), \
            f"buttons on a message followed by another in the same batch: {self.buttons_not_last[:5]}"

    # --- what a user does ------------------------------------------------------------------------
    async def text(self, user: int | str, text: str, first_name: str = "花子") -> list:
        if isinstance(user, str):
            return await self._on_line(user, self._line().user_sends_text(user, text))
        before = len(self.standin.messages(user))
        await self._handled_by_bot(await self.standin.user_sends_text(user, text, first_name=first_name))
        return self.standin.messages(user)[before:]

    async def group_text(self, user: int, chat: int, text: str, kind: str = "group") -> list:
        """`user` writes `text` in group `chat` (a group or supergroup with the bot in it); returns what the
        bot sent to that group and to the user's private chat meanwhile."""
        self.standin.add_group(chat, kind)
        before = len(self.standin.messages(chat)), len(self.standin.messages(user))
        await self._handled_by_bot(await self.standin.user_sends_text(user, text, chat_id=chat))
        return self.standin.messages(chat)[before[0]:] + self.standin.messages(user)[before[1]:]

    async def channel_post(self, chat: int, text: str) -> list:
        """A post in a channel the bot is a member of (no user sends it); returns what the bot sent there."""
        self.standin.add_group(chat, "channel")
        before = len(self.standin.messages(chat))
        await self._handled_by_bot(await self.standin.channel_post(chat, text))
        return self.standin.messages(chat)[before:]

    async def sticker(self, user: int) -> list:
        before = len(self.standin.messages(user))
        await self._handled_by_bot(await self.standin.user_sends_sticker(user))
        return self.standin.messages(user)[before:]

    async def press(self, user: int | str, button_text: str | None = None, *, data: str | None = None,
                    message_id: int | None = None) -> list:
        """Press a button on the newest message that has it (or on `message_id`). On LINE: a quick reply of the
        last message (LINE shows them there alone), or any postback `data` (a forged or stale tap)."""
        if isinstance(user, str):
            line = self._line()
            value = data if data is not None else _quick_reply(line, user, button_text or "")
            return await self._on_line(user, line.user_presses(user, value))
        before = len(self.standin.messages(user))
        if message_id is None:
            message_id = self.find(user, button_text=button_text, data=data).message_id
        qid = await self.standin.user_presses(user, message_id, data=data, button_text=button_text)
        await self._wait_query(qid)
        return self.standin.messages(user)[before:]

    async def press_raw(self, user: int, data: str, message_id: int, *, chat: int | None = None) -> list:
        """A press with any data on message `message_id` of `chat` (default: the user's private chat)."""
        before = len(self.standin.messages(user))
        qid = await self.standin.user_presses_raw(user, data, message_id, chat_id=chat)
        await self._wait_query(qid)
        return self.standin.messages(user)[before:]

    async def _wait_query(self, query_id: str) -> None:
        await self._handled.query(query_id, HANDLED_WITHIN)

    def find(self, user: int, *, button_text: str | None = None, data: str | None = None):
        for msg in reversed(self.standin.messages(user)):
            for row in msg.buttons:
                for button in row:
                    if (button_text is not None and button[0] == button_text) or \
                            (data is not None and button[1] == data):
                        return msg
        raise AssertionError(f"no message to user {user} has a button {button_text or data!r}; "
                             f"last: {[m.summary() for m in self.standin.messages(user)][-3:]}")

    def last(self, user: int | str) -> str:
        if isinstance(user, str):
            texts = self._line().texts(user)
            return texts[-1] if texts else ""
        msg = self.standin.last_message(user)
        return msg.body if msg else ""

    def last_buttons(self, user: int | str) -> list[str]:
        """The labels of the buttons on the user's last message."""
        if isinstance(user, str):
            return [label for label, _ in self._line().last_quick_replies(user)]
        msg = self.standin.last_message(user)
        return [label for row in msg.buttons for label, _ in row] if msg else []

    # --- LINE ------------------------------------------------------------------------------------
    def _line(self) -> LineStandin:
        assert self.line is not None, "a LINE user (str) needs Coach(..., line=LineStandin(...))"
        return self.line

    async def _on_line(self, user: str, sending: Any) -> list[LineMessage]:
        """Send one webhook event and wait until the bot handled it; the messages it brought the user."""
        line = self._line()
        before = len(line.messages(user))
        status = await sending
        assert status == 200, f"the bot answered LINE's webhook with {status}"
        event = line.last_event()
        if event.get("type") != "unfollow":
            await self._handled.update(update_id_of(event["webhookEventId"]), HANDLED_WITHIN)
        return line.messages(user)[before:]

    async def follow(self, user: str) -> list[LineMessage]:
        return await self._on_line(user, self._line().user_follows(user))

    async def unfollow(self, user: str) -> list[LineMessage]:
        return await self._on_line(user, self._line().user_unfollows(user))

    # --- time ------------------------------------------------------------------------------------
    async def travel(self, **delta: float) -> int:
        """Move the clock and deliver everything that fell due (as the scheduler tick would)."""
        self.clock.travel(timedelta(**delta))
        return await self.runner.run_until_idle()

    async def travel_to(self, when: datetime) -> int:
        self.clock.freeze(when)
        return await self.runner.run_until_idle()

    # --- the database ----------------------------------------------------------------------------
    async def rows(self, model, *where) -> list:
        """The rows, in primary-key order (PostgreSQL has no order of its own: rows it updated may come last)."""
        async with self.rt.db.session() as s:
            return list(await s.scalars(select(model).where(*where).order_by(*model.__table__.primary_key.columns)))

    async def count(self, model, *where) -> int:
        async with self.rt.db.session() as s:
            return await s.scalar(select(func.count()).select_from(model).where(*where))
