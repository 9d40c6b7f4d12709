"""`python -m bot chat`: try the coach in a terminal, without Telegram and without a token.

The real bot runs against the Bot API stand-in on 127.0.0.1, on an SQLite file (`chat-demo.db`, kept between
runs; `--reset` starts afresh). One terminal plays four people: a patient, a clinician and an admin (the
clinician is set up for the try-out on first start), and a patient on LINE (the LINE stand-in: bot/chat_line.py).
Every bot message is numbered, with its buttons.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import col, select
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot import hints
from bot.app import build_application
from bot.chat_line import LINE_ROLE, LINE_SECRET, LINE_TOKEN, LineChat, free_port, line_settings
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import clinicians, inbox, outbox
from bot.storage.models import Outbox
from bot.updates import Updates, serve
from line_standin import LineMessage, LineStandin
from telegram_standin import StandIn
from telegram_standin.state import SentMessage

DEMO_TOKEN = "123456789:CHATdemoCHATdemoCHATdemoCHATdemo00"
DEFAULT_DATABASE = "sqlite+aiosqlite:///chat-demo.db"
DEFAULT_FILES = "chat-files"
ROLES = {"patient": 10001, "clinician": 10002, "admin": 10003}  # on Telegram
PEOPLE = (*ROLES, LINE_ROLE)  # and a patient on LINE (bot/chat_line.py)
NAMES = {"patient": "chat.demo_name", "clinician": "chat.demo_clinician_name", "admin": "chat.demo_admin_name"}
TRAVEL = re.compile(r"^:\+(\d+)([mhd])$")
PRESS = re.compile(r"^:(?:(\d+)\.)?(\d+)$")  # :2 (newest message with buttons) or :5.2 (message 5, button 2)
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
MAX_STEPS = 1000  # due times stepped through in one move of the clock
ANSWER_WAIT = 15.0  # seconds to wait for the bot to finish handling one update

HELP = """\
  text              send it as the current person (e.g. /start, ３, 7:30)
  :2                press button 2 of the newest message with buttons
  :5.2              press button 2 of message #5 (any message shown so far)
  :+30m :+2h :+1d   move the clock; everything that falls due on the way is delivered at its time
  :as patient | :as clinician | :as admin   switch who you are (one chat each)
  :as line          be a patient on LINE: [LINE reply] came free, [LINE push] counts; :2 presses quick reply 2
  :help             this list
  :q                quit
Pictures and documents the bot sends are saved to {files}/ and their paths printed.
Start afresh (deletes the try-out database): {reset}"""


@dataclass
class Shown:
    """A bot message as numbered on screen."""

    number: int
    role: str
    msg: SentMessage | LineMessage  # a LINE message: role "line"
    edits: int = 0  # edits already shown
    body: str = ""  # the text as last shown


@dataclass
class Terminal:
    """What the person at the keyboard sees: numbered messages of the current role's chat, a notice for the
    other chats, toasts (callback answers), and where sent files were saved."""

    standin: StandIn
    out: TextIO
    files: Path
    role: str = "patient"
    shown: list[Shown] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLES, 0))
    noticed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PEOPLE, 0))
    answers_seen: int = 0
    line: LineChat | None = None

    def say(self, line: str) -> None:
        print(line, file=self.out)

    async def show_new(self, stamp: str | None = None) -> int:
        """Print what arrived in the current chat since last time; returns how many messages."""
        new: list[SentMessage] | list[LineMessage]
        if self.role == LINE_ROLE:
            new = self.line.take_new() if self.line is not None else []
        else:
            messages = self.standin.messages(ROLES[self.role])
            new = messages[self.seen[self.role]:]
            self.seen[self.role] = len(messages)
        if new and stamp:
            self.say(f"⏩ {stamp}")
        self._show_edits()
        for msg in new:
            if isinstance(msg, LineMessage):
                await self._print_line(msg)
            else:
                self._print(msg)
        for text in self._new_answers():
            self.say(f"💬 {text}")
        for role in PEOPLE:
            waiting = self._waiting(role)
            if role != self.role and waiting > self.noticed[role]:
                self.say(f"📬 {role}: {waiting} new message(s) — `:as {role}` to read")
                self.noticed[role] = waiting
        self.noticed[self.role] = 0
        self.out.flush()
        return len(new)

    def _waiting(self, role: str) -> int:
        if role == LINE_ROLE:
            return self.line.waiting() if self.line is not None else 0
        return len(self.standin.messages(ROLES[role])) - self.seen[role]

    def skip_existing(self, role: str) -> None:
        """Messages already in a chat (set-up, or an earlier run) are not announced."""
        if role == LINE_ROLE:
            if self.line is not None:
                self.line.skip_existing()
        else:
            self.seen[role] = len(self.standin.messages(ROLES[role]))

    def _show_edits(self) -> None:
        """The bot edits a message when its question is answered (a note added, the buttons taken off)."""
        for shown in self.shown:
            if shown.role != self.role or not isinstance(shown.msg, SentMessage) or shown.msg.edits == shown.edits:
                continue
            shown.edits = shown.msg.edits
            body = shown.msg.body or ""
            if body != shown.body:
                added = body[len(shown.body):].strip() if body.startswith(shown.body) else body
                self.say(f"✏️ #{shown.number} {added}")
                shown.body = body

    def _print(self, msg: SentMessage) -> None:
        number = len(self.shown) + 1
        self.shown.append(Shown(number, self.role, msg, msg.edits, msg.body or ""))
        body = msg.body or ""
        self.say(f"\n🤖 #{number} {body}" if body else f"\n🤖 #{number}")
        if msg.kind in ("photo", "document", "video") and msg.file_bytes is not None:
            self.say(f"   📎 saved: {self._save(number, msg)}")
        elif msg.file is not None and msg.file.url:  # sent by URL (a clinic's own picture or video)
            self.say(f"   🔗 {msg.file.url}")
        labels = [f"[{number}.{i}] {text}" for i, (text, _) in enumerate(_flat(msg), start=1)]
        if labels:
            self.say("   " + "  ".join(labels))

    async def _print_line(self, msg: LineMessage) -> None:
        number = len(self.shown) + 1
        self.shown.append(Shown(number, LINE_ROLE, msg, 0, msg.text or ""))
        assert self.line is not None
        await self.line.print(number, msg)

    def is_line(self, message: int | None) -> bool:
        """Message #`message` is a LINE message."""
        return message is not None and 1 <= message <= len(self.shown) and \
            isinstance(self.shown[message - 1].msg, LineMessage)

    def _save(self, number: int, msg: SentMessage) -> Path:
        self.files.mkdir(parents=True, exist_ok=True)
        data = msg.file_bytes or b""
        if msg.kind == "photo" or not msg.file_name:  # Telegram photos have no file name
            name = f"{msg.kind}.{_extension(data)}"
        else:
            name = Path(msg.file_name).name
        path = self.files / f"{number:03d}-{name}"
        path.write_bytes(data)
        return path

    def _new_answers(self) -> list[str]:
        answers = self.standin.callback_answers[self.answers_seen:]
        self.answers_seen += len(answers)
        return [text for _, text, _ in answers if text]

    def button(self, message: int | None, index: int) -> tuple[Shown, str] | None:
        """The shown message and the callback data of button `index` (1-based): of message #`message`, or of
        the newest message with buttons in the current chat."""
        if message is None:
            candidates = [s for s in reversed(self.shown) if s.role == self.role and isinstance(s.msg, SentMessage)
                          and _flat(s.msg)]
            target = candidates[0] if candidates else None
        else:
            target = self.shown[message - 1] if 1 <= message <= len(self.shown) else None
        if target is None or not isinstance(target.msg, SentMessage):
            return None
        buttons = _flat(target.msg)  # the message as it is now: an edit may have removed its buttons
        data = buttons[index - 1][1] if 1 <= index <= len(buttons) else None
        if data is None:
            return None
        return target, data


def _extension(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    return "jpg" if data.startswith(b"\xff\xd8") else "bin"


def _flat(msg: SentMessage) -> list[tuple[str, str | None]]:
    return [button for row in msg.buttons for button in row]


class HandledUpdates:
    """Which updates the Application has finished handling: a handler in the last group marks each one, so a
    driver (chat mode, the test harness) waits for the bot by update id instead of for a time."""

    def __init__(self, app: Application) -> None:
        self._updates: set[int] = set()
        self._queries: set[str] = set()
        self._cond = asyncio.Condition()
        app.add_handler(TypeHandler(Update, self._mark), group=99)

    async def _mark(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._cond:
            self._updates.add(update.update_id)
            if update.callback_query is not None:
                self._queries.add(update.callback_query.id)
            self._cond.notify_all()

    async def update(self, update_id: int, timeout: float) -> None:  # noqa: ASYNC109
        """Until update `update_id` is handled; TimeoutError after `timeout` seconds."""
        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: update_id in self._updates), timeout)

    async def query(self, query_id: str, timeout: float) -> None:  # noqa: ASYNC109
        """Until the button press `query_id` is handled; TimeoutError after `timeout` seconds."""
        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: query_id in self._queries), timeout)


class ChatSession:
    """The bot, the stand-in and the clock for one try-out; `handle(line)` does what one typed line asks."""

    def __init__(self, app: Application, standin: StandIn, clock: Clock, term: Terminal,
                 database_url: str = DEFAULT_DATABASE, line: LineStandin | None = None) -> None:
        self.app = app
        self.database_url = database_url
        self.standin = standin
        self.clock = clock
        self.term = term
        self._handled = HandledUpdates(app)
        if line is not None:
            public = self.app.bot_data["runtime"].settings.line_public_url
            term.line = LineChat(line, public, term.files, term.say,
                                 lambda update_id: self._handled.update(update_id, ANSWER_WAIT))

    @property
    def rt(self) -> Runtime:
        return self.app.bot_data["runtime"]

    async def _until(self, handled: Awaitable[None]) -> None:
        try:
            await handled
        except TimeoutError:
            self.term.say("(the bot did not finish answering)")

    # --- what the person does ----------------------------------------------------------------------
    async def send(self, text: str, role: str | None = None) -> None:
        role = role or self.term.role
        update = await self.standin.user_sends_text(ROLES[role], text, first_name=t(NAMES[role]))
        await self._until(self._handled.update(update["update_id"], ANSWER_WAIT))

    async def press(self, shown: Shown, data: str) -> None:
        user = ROLES[shown.role]
        assert isinstance(shown.msg, SentMessage)
        qid = await self.standin.user_presses_raw(user, data, shown.msg.message_id, chat_id=shown.msg.chat_id)
        await self._until(self._handled.query(qid, ANSWER_WAIT))

    async def deliver(self) -> int:
        return await self.app.bot_data["delivery"].run_until_idle()

    async def travel(self, delta: timedelta) -> None:
        """Move the clock by `delta`, stopping at every due time on the way so each message is delivered when
        it falls due (and printed with its time); anything still recorded as missed is reported."""
        start = self.clock.now()
        target = start + delta
        for _ in range(MAX_STEPS):
            due = await self._next_due(target)
            if due is None:
                break
            if due > self.clock.now():
                self.clock.travel(due - self.clock.now())
            delivered = await self.deliver()
            await self.term.show_new(stamp=self._local(self.clock.now()))
            if not delivered and due <= self.clock.now():
                break  # claimed elsewhere (a lease): nothing more to do on the way
        if target > self.clock.now():
            self.clock.travel(target - self.clock.now())
        await self.deliver()
        await self.term.show_new(stamp=self._local(self.clock.now()))
        await self._report_missed(start, target)
        self.term.say(f"⏩ now {self._local(self.clock.now())}")

    async def _next_due(self, until: datetime) -> datetime | None:
        async with self.rt.db.session() as s:
            due = await s.scalar(select(func.min(col(Outbox.due_at))).where(Outbox.state == outbox.PENDING,
                                                                           Outbox.due_at <= until))
        return None if due is None else _utc(due)

    async def _report_missed(self, start: datetime, end: datetime) -> None:
        async with self.rt.db.session() as s:
            rows = (await s.execute(select(Outbox.kind, Outbox.due_at).where(
                Outbox.state == outbox.MISSED, Outbox.due_at > start, Outbox.due_at <= end)
                .order_by(col(Outbox.due_at)))).all()
        for kind, due in rows:
            self.term.say(f"⚠ not sent, too late: {kind} due {self._local(due)}")

    def _local(self, when: datetime) -> str:
        return f"{_utc(when).astimezone(self.rt.settings.tz):%m/%d %H:%M}"

    async def switch(self, role: str) -> None:
        self.term.role = role
        if role == LINE_ROLE:
            assert self.term.line is not None
            self.term.say(f"👤 you are now the {self.term.line.describe()}")
            await self.term.show_new()
            await self.term.line.follow_once()
            await self.deliver()
        else:
            self.term.say(f"👤 you are now the {role} ({t(NAMES[role])}, Telegram user {ROLES[role]})")
        await self.term.show_new()

    async def set_up_clinician(self) -> None:
        """The try-out's clinician, joined through the real /clinician command with an admin's invite."""
        rt = self.rt
        async with rt.db.session() as s:
            if await clinicians.by_user(s, ROLES["clinician"]) is not None:
                return
            invite = await clinicians.create_invite(s, created_by=ROLES["admin"], now=rt.clock.now(),
                                                    valid=timedelta(hours=rt.settings.invite_valid_hours))
            code = invite.code
        await self.send(f"/clinician {code}", role="clinician")

    async def handle(self, line: str) -> bool:
        """Do what one typed line asks; False to quit."""
        line = line.strip()
        if line in (":q", ":quit"):
            return False
        if not line:
            return True
        if line == ":help":
            self.term.say(help_text(self.term.files, self.database_url))
        elif line.startswith(":as"):
            role = line[3:].strip()
            if role not in PEOPLE or (role == LINE_ROLE and self.term.line is None):
                self.term.say(f"(you are the {self.term.role}; choose one of: :as {' | :as '.join(PEOPLE)})")
            else:
                await self.switch(role)
        elif m := TRAVEL.match(line):
            await self.travel(timedelta(**{UNITS[m[2]]: int(m[1])}))
        elif m := PRESS.match(line):
            number = int(m[1]) if m[1] else None
            found = self.term.button(number, int(m[2]))
            if self.term.line is not None and (self.term.role == LINE_ROLE or self.term.is_line(number)):
                await self.term.line.press(number, int(m[2]))
            elif found is None:
                self.term.say("(no such button: use the numbers shown, e.g. :2 or :5.2)")
            else:
                await self.press(*found)
        elif line.startswith(":"):
            self.term.say("(unknown command; :help lists them)")
        elif self.term.role == LINE_ROLE and self.term.line is not None:
            await self.term.line.send(line)
        else:
            await self.send(line)
        await self.deliver()
        await self.term.show_new()
        return True


def _utc(when: datetime) -> datetime:
    """Timestamps are stored as UTC; SQLite hands them back without a time zone."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def help_text(files: Path, database_url: str = DEFAULT_DATABASE) -> str:
    """The help, its reset command naming this try-out's own database and folder when they are not the defaults."""
    args = ["chat", "--reset"]
    if database_url != DEFAULT_DATABASE:
        args += ["--database", shlex.quote(database_url)]
    if files != Path(DEFAULT_FILES):
        args += ["--files", shlex.quote(str(files))]
    return HELP.format(files=files, reset=hints.command(" ".join(args)))


def reset_database(database_url: str) -> list[Path]:
    """Delete the try-out's SQLite file (and its -wal/-shm); returns what was deleted."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return []
    gone = []
    for suffix in ("", "-wal", "-shm"):
        path = Path(url.database + suffix)
        if path.exists():
            path.unlink()
            gone.append(path)
    return gone


Prepare = Callable[["ChatSession"], Awaitable[list[str]]]


async def run_chat(database_url: str = DEFAULT_DATABASE, lines: Iterable[str] | None = None,
                   out: TextIO = sys.stdout, *, reset: bool = False, files: str | Path = DEFAULT_FILES,
                   start: datetime | None = None, prepare: Prepare | None = None, **overrides: Any) -> int:
    """The try-out. `lines` replaces the keyboard (tests, scripts); `start` freezes the clock there. `prepare`
    (the demo: bot/demo.py) runs once the clinician is set up and returns lines to run first, shown as typed;
    `overrides` are settings of the try-out."""
    files = Path(files)
    if reset:
        gone = reset_database(database_url)
        shutil.rmtree(files, ignore_errors=True)
        print(f"Started afresh: deleted {', '.join(map(str, gone)) or 'nothing (no try-out database yet)'}"
              f" and {files}/.", file=out)
    clock = Clock(frozen_at=start)
    async with StandIn() as standin, LineStandin(LINE_SECRET, LINE_TOKEN, now=clock.now, allow_http_media=True) as line:
        overrides = {**line_settings(line, free_port()), **overrides}
        settings = Settings(_env_file=None, telegram_bot_token=DEMO_TOKEN, database_url=database_url,
                            telegram_api_base_url=standin.base_url, rate_limit_enabled=False,
                            delivery_interval_seconds=1, admin_telegram_ids=[ROLES["admin"]], **overrides)
        app = build_application(settings, clock=clock, run_delivery_job=False)
        term = Terminal(standin, out, files)
        chat = ChatSession(app, standin, clock, term, database_url, line)
        stop = asyncio.Event()

        async def session(updates: Updates) -> None:  # as `python -m bot` receives (bot/updates.py: the inbox)
            async with updates.rt.db.session() as s:  # a new stand-in numbers its updates afresh: the done rows
                await inbox.purge(s, clock.now(), confirmed_below=2**62)  # of an earlier try-out must not clash
            polling = asyncio.create_task(updates.poll(stop, timeout=1))
            try:
                if term.line is not None:
                    await term.line.start(updates.rt)
                await chat.set_up_clinician()
                script = await prepare(chat) if prepare is not None else []
                for role in PEOPLE:
                    term.skip_existing(role)
                print(__doc__.split("\n\n", 1)[1], file=out)
                print(help_text(files, database_url), file=out)
                if not script:
                    print("You are the patient. Start with /start.", file=out)
                await _loop(chat, lines, out, script)
            finally:
                stop.set()
                await polling

        await serve(app, session)
    return 0


async def _loop(chat: ChatSession, lines: Iterable[str] | None, out: TextIO, script: list[str] | None = None) -> None:
    source = iter(lines) if lines is not None else None
    loop = asyncio.get_running_loop()
    for line in script or ():  # shown as if typed
        print(f"\n[{chat.term.role}] > {line}", file=out, flush=True)
        await chat.handle(line)
    while True:
        if source is not None:
            line = next(source, ":q")
        else:
            print(f"\n[{chat.term.role}] > ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
        if not await chat.handle(line):
            return
