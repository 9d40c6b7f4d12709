"""Pictures and videos named by a stable id, for the channel adapters (docs/architecture.md, the messaging port).

Coaching sends a Reply with a `picture_id` and no bytes; the adapter asks `MediaLibrary.resolve` what it names
and sends it: Telegram uploads the bytes (or gives Telegram the URL) the first time and keeps the file_id it
gets back (`media_file`, keyed by the id and the content's hash), so a fan-out to thousands sends the id, not
the bytes; a LINE adapter would serve the same bytes under the id at a public URL.

Ids (bot/coaching/pictures.py makes them):
  exercise:<exercise id>               the drawn picture (bot/exercise_pictures.py)
  exercise:<condition>:<exercise id>   the clinic's own picture, `picture = "..."` in rules/programs/<condition>.toml
  video:<condition>:<exercise id>      the clinic's video, `video = "..."`
A clinic's file is a path (relative to the directory the bot runs in) or an http(s) URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from bot import exercise_pictures
from bot.clock import Clock
from bot.storage import media as stored
from bot.storage.db import Database
from rules import CONDITIONS, load_program
from rules.programs import Exercise

log = logging.getLogger(__name__)

Kind = Literal["photo", "video"]


@dataclass(frozen=True)
class Media:
    kind: Kind
    digest: str  # sha256 hex of the bytes (of the URL when there are none)
    data: bytes | None = None
    url: str | None = None
    name: str = "picture.png"


def is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def available(value: str) -> bool:
    """A clinic's picture or video can be sent: a URL, or a file that exists."""
    return is_url(value) or Path(value).is_file()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exercise(condition: str | None, exercise_id: str) -> Exercise | None:
    """The exercise of that id in the condition's program (any program when condition is None)."""
    for c in (condition,) if condition is not None else CONDITIONS:
        if c in CONDITIONS:
            found = next((x for x in load_program(c).exercises if x.id == exercise_id), None)
            if found is not None:
                return found
    return None


def _file(kind: Kind, value: str) -> Media:
    if is_url(value):
        return Media(kind, _sha(value.encode()), url=value, name=value.rsplit("/", 1)[-1] or kind)
    stat = Path(value).stat()
    return _read(kind, value, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read(kind: Kind, path: str, mtime_ns: int, size: int) -> Media:
    """A clinic's file, read and hashed once while it is unchanged (a fan-out sends it thousands of times)."""
    data = Path(path).read_bytes()
    return Media(kind, _sha(data), data=data, name=Path(path).name)


def resolve(picture_id: str) -> Media:
    """What a picture id names (raises LookupError for an id that names nothing). The drawing is made once per
    process; a clinic's file is read again when it changed (replaced: a new hash, a new upload)."""
    parts = picture_id.split(":")
    if parts[0] == "exercise" and len(parts) == 2:
        x = exercise(None, parts[1])
        if x is None or not exercise_pictures.has_drawing(x.id):
            raise LookupError(picture_id)
        png = exercise_pictures.drawn_png(x.id, x.name)
        return Media("photo", _sha(png), data=png, name=f"{x.id}.png")
    if parts[0] in ("exercise", "video") and len(parts) == 3:
        x = exercise(parts[1], parts[2])
        value = None if x is None else x.picture if parts[0] == "exercise" else x.video
        if value is None:
            raise LookupError(picture_id)
        return _file("photo" if parts[0] == "exercise" else "video", value)
    raise LookupError(picture_id)


@dataclass
class MediaLibrary:
    """Resolution for the adapters, and the file ids a messenger gave us (in memory after the first read)."""

    db: Database
    clock: Clock
    known: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _locks: dict[tuple[str, str, str], asyncio.Lock] = field(default_factory=dict)

    async def resolve(self, picture_id: str) -> Media:
        return await asyncio.to_thread(resolve, picture_id)  # the first drawing imports matplotlib: not in the loop

    async def file_id(self, channel: str, picture_id: str, digest: str) -> str | None:
        key = (channel, picture_id, digest)
        if key not in self.known:
            async with self.db.session() as s:
                found = await stored.file_id(s, *key)
            if found is None:
                return None
            self.known[key] = found
        return self.known[key]

    async def remember(self, channel: str, picture_id: str, digest: str, file_id: str) -> None:
        self.known[(channel, picture_id, digest)] = file_id
        async with self.db.session() as s:
            await stored.remember(s, channel, picture_id, digest, file_id, self.clock.now())

    async def forget(self, channel: str, picture_id: str, digest: str) -> None:
        """The messenger no longer knows this id: the next send uploads again."""
        self.known.pop((channel, picture_id, digest), None)
        async with self.db.session() as s:
            await stored.forget(s, channel, picture_id, digest)

    def lock(self, channel: str, picture_id: str, digest: str) -> asyncio.Lock:
        """Held while the first upload of a picture is under way, so sends at the same moment wait for its id
        instead of uploading it again."""
        return self._locks.setdefault((channel, picture_id, digest), asyncio.Lock())
