"""Chat mode's LINE patient (`:as line`): the LINE stand-in beside the Telegram one, and what the terminal shows
of that chat.

The bot's LINE server (bot/line/server.py) listens on a free port of 127.0.0.1; the stand-in signs and posts the
patient's events to it and records what the bot sends. Each LINE message is numbered with the Telegram ones and
marked `[LINE reply]` (the answer went with the event's reply token: free) or `[LINE push]` (counted against the
month's allowance). Quick replies are numbered `[1] ...`: on LINE they exist only on the chat's last message, so
`:2` presses quick reply 2 of the newest LINE message. Pictures come as URLs of the bot's own /line/media; their
bytes are fetched from there and saved like Telegram's pictures (so are documents sent as /line/media links).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from sqlmodel import select

from bot.line.events import update_id_of
from bot.runtime import Runtime
from bot.storage.models import LineUser
from line_standin import LineMessage, LineStandin

LINE_ROLE = "line"
LINE_USER = "U" + "c0ac11e0" * 4  # fixed: the same LINE patient in every run on the same database
LINE_SECRET = "chat-demo-line-channel-secret"
LINE_TOKEN = "chat-demo-line-channel-access-token"
LINE_NAME = "LINE"  # the profile's display name (the bot asks a LINE patient to type a nickname)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def line_settings(line: LineStandin, port: int) -> dict[str, Any]:
    """The bot's LINE settings for the stand-in; the stand-in's webhook is pointed at the bot's server on `port`."""
    line.webhook_url = f"http://127.0.0.1:{port}/line/webhook"
    return {"line_channel_secret": LINE_SECRET, "line_channel_access_token": LINE_TOKEN,
            "line_api_base_url": line.base_url, "line_public_url": f"http://127.0.0.1:{port}", "line_port": port}


class LineChat:
    """The LINE patient at the keyboard: sends events through the stand-in and waits until the bot handled them
    (`wait(update_id)`), and prints the LINE chat."""

    def __init__(self, line: LineStandin, public_url: str, files: Path, say: Callable[[str], None],
                 wait: Callable[[int], Awaitable[None]]) -> None:
        self.line = line
        self.public_url = public_url
        self.files = files
        self.say = say
        self.wait = wait
        self.seen = 0  # LINE messages already shown
        self.last_number: int | None = None  # the on-screen number of the newest LINE message shown
        self.followed = False

    async def start(self, rt: Runtime) -> None:
        """The stand-in is new every run; the patient may be known from an earlier run on this database: then they
        are still a friend of the account (pushes reach them) and are not made to follow again."""
        self.line.set_profile(LINE_USER, LINE_NAME)
        async with rt.db.session() as s:
            self.followed = await s.scalar(select(LineUser.id).where(LineUser.line_user_id == LINE_USER)) is not None

    def describe(self) -> str:
        return f"LINE patient (LINE user {LINE_USER})"

    # --- what the LINE patient does -------------------------------------------------------------------
    async def follow_once(self) -> None:
        if not self.followed:
            self.followed = True
            self.say("(you add the coach as a LINE friend: a follow event)")
            await self._event(self.line.user_follows(LINE_USER))

    async def send(self, text: str) -> None:
        await self._event(self.line.user_sends_text(LINE_USER, text))

    async def press(self, number: int | None, index: int) -> None:
        """Quick reply `index` (1-based) of the newest LINE message (`number`, when given, must be that one)."""
        messages = self.line.messages(LINE_USER)
        if not messages:
            self.say("(no LINE message yet: `:as line` first)")
            return
        if self.seen < len(messages):
            self.say("(newer LINE messages are waiting: `:as line` to read them first)")
            return
        if number is not None and number != self.last_number:
            self.say(f"(on LINE only the newest message has quick replies: #{self.last_number}; press them with "
                     ":1, :2 ...)")
            return
        quick = self.line.last_quick_replies(LINE_USER)
        if not 1 <= index <= len(quick):
            self.say("(the newest LINE message has no quick reply " + (f"{index}: use 1-{len(quick)})" if quick
                                                                      else "at all: type your answer)"))
            return
        await self._event(self.line.user_taps(LINE_USER, quick[index - 1][0]))

    async def _event(self, sending: Awaitable[int | None]) -> None:
        status = await sending
        if status != 200:
            self.say(f"(the bot answered LINE's webhook with {status})")
            return
        try:
            await self.wait(update_id_of(self.line.last_event()["webhookEventId"]))
        except TimeoutError:
            self.say("(the bot did not finish answering)")

    # --- what the terminal shows ----------------------------------------------------------------------
    def take_new(self) -> list[LineMessage]:
        messages = self.line.messages(LINE_USER)
        new = messages[self.seen:]
        self.seen = len(messages)
        return new

    def waiting(self) -> int:
        return len(self.line.messages(LINE_USER)) - self.seen

    def skip_existing(self) -> None:
        self.seen = len(self.line.messages(LINE_USER))

    async def print(self, number: int, msg: LineMessage) -> None:
        self.last_number = number
        mark = f"[LINE {msg.via}]"
        kind = msg.message.get("type")
        if kind == "text":
            self.say(f"\n🤖 #{number} {mark} {msg.text}")
            for url in re.findall(re.escape(self.public_url) + r"/line/media/\S+", msg.text or ""):
                await self._save(number, url)
        elif kind == "flex":  # pictures with their captions, side by side (a carousel)
            cards = list(zip(msg.images, msg.card_texts, strict=False))
            self.say(f"\n🤖 #{number} {mark} 🖼 {len(cards)} picture(s) with text, side by side")
            for i, (url, text) in enumerate(cards, 1):
                self.say(f"   ({i}) {text}\n   🔗 {url}")
                if url.startswith(self.public_url + "/line/media/"):  # the bot's own: fetched as LINE would
                    await self._save(number * 100 + i, url)
        else:
            url = str(msg.message.get("originalContentUrl", ""))
            self.say(f"\n🤖 #{number} {mark} 🖼 ({'picture' if kind == 'image' else kind})")
            self.say(f"   🔗 {url}")
            if url.startswith(self.public_url + "/line/media/"):  # the bot's own: fetched as LINE would
                await self._save(number, url)
        if msg.quick_replies:
            self.say("   " + "  ".join(f"[{i}] {label}" for i, (label, _) in enumerate(msg.quick_replies, 1)))

    async def _save(self, number: int, url: str) -> None:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, http.get(url) as got:
                if got.status != 200:
                    self.say(f"   (the bot's /line/media answered {got.status})")
                    return
                data = await got.read()
                name = _file_name(got.headers.get("Content-Disposition", ""), got.content_type)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.say(f"   (could not fetch it: {type(exc).__name__})")
            return
        self.files.mkdir(parents=True, exist_ok=True)
        path = self.files / f"{number:03d}-{name}"
        path.write_bytes(data)
        self.say(f"   📎 saved: {path}")


def _file_name(disposition: str, content_type: str) -> str:
    found = re.search(r'filename="([^"]+)"', disposition)
    if found:
        return Path(found[1]).name
    return {"image/png": "picture.png", "image/jpeg": "picture.jpg"}.get(content_type, "file.bin")
