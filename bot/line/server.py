"""The LINE side of the bot's HTTP server (behind the clinic's HTTPS proxy, docs/operations.md "LINE"):

    POST /line/webhook                  LINE's events, checked against X-Line-Signature (HMAC-SHA256 of the body
                                        with the channel secret: otherwise 400, nothing stored)
    GET  /line/media/p/<id>/<hash>.png  an exercise's picture, by its id and the first 16 hex digits of its hash
    GET  /line/media/h/<token>          a picture or file kept for one person (bot/line/channel.py), until it
                                        expires

A webhook's events are committed to the inbox before the 200 goes back, as Telegram's (bot/updates.py): a
crash loses nothing (LINE redelivers what was not answered 200), and an event LINE sends again (the same
webhookEventId) is handled once. Each person's LINE id gets their number on first contact (storage/line.py).
An unfollow (the person blocked the account) marks the patient unreachable, as Telegram's 403 does; a follow
(back again) or any message makes them reachable. Events from groups and rooms are ignored.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from linebot.v3.webhook import SignatureValidator

from bot.coaching import patients as patient_state
from bot.line.events import to_update
from bot.runtime import Runtime
from bot.storage import line as stored
from bot.storage import patients
from bot.updates import Updates

log = logging.getLogger(__name__)


class LineServer:
    def __init__(self, updates: Updates) -> None:
        self.updates = updates
        self.rt: Runtime = updates.rt
        secret, _token, _public = self.rt.settings.require_line()
        self.validator = SignatureValidator(secret)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/line/webhook", self.webhook),
                web.get("/line/media/p/{picture_id}/{digest}.png", self.picture),
                web.get("/line/media/h/{token}", self.hosted)]

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Line-Signature", "")
        if not signature or not self.validator.validate(body.decode("utf-8", "replace"), signature):
            log.warning("LINE webhook: bad or missing signature (%d bytes); ignored", len(body))
            return web.Response(status=400)
        try:
            events = json.loads(body)["events"]
            assert isinstance(events, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            log.warning("LINE webhook: not a webhook body; ignored")
            return web.Response(status=400)
        try:
            raw = await self._people(events)
        except Exception as exc:  # the database: LINE sends the events again later
            log.error("LINE webhook: events not stored (%s); LINE will send them again", type(exc).__name__)
            return web.Response(status=500)
        if raw:
            await self.updates.receive_raw(raw)
        return web.Response(status=200)

    async def _people(self, events: list[Any]) -> list[dict[str, Any]]:
        """Numbers for the events' people (new ones get theirs), blocks and unblocks recorded; the updates."""
        out: list[dict[str, Any]] = []
        now = self.rt.clock.now()
        async with self.rt.db.session() as s:
            for event in events:
                source = (event.get("source") or {}) if isinstance(event, dict) else {}
                if source.get("type") != "user" or not source.get("userId"):
                    continue  # a group or a room: nobody's health data goes there
                line_user_id = str(source["userId"])
                if event.get("type") == "unfollow":
                    number = await stored.set_blocked(s, line_user_id, now)
                    p = await patients.by_user(s, number) if number is not None else None
                    if p is not None:
                        log.info("LINE: patient %s blocked the account; messages stop", p.id)
                        await patient_state.unreachable(s, self.rt, p)
                    continue
                number = await stored.number_of(s, line_user_id, now)
                if event.get("type") == "follow":
                    await stored.set_blocked(s, line_user_id, None)
                update = to_update(event, number, now)
                if update is not None:
                    out.append(update)
        return out

    async def picture(self, request: web.Request) -> web.Response:
        picture_id, digest = unquote(request.match_info["picture_id"]), request.match_info["digest"]
        try:
            found = await self.rt.media.resolve(picture_id)
        except (LookupError, OSError):
            raise web.HTTPNotFound() from None
        if found.data is None or not found.digest.startswith(digest) or len(digest) < 16:
            raise web.HTTPNotFound()
        return web.Response(body=found.data, content_type="image/png",
                            headers={"Cache-Control": "public, max-age=604800"})

    async def hosted(self, request: web.Request) -> web.Response:
        async with self.rt.db.session() as s:
            row = await stored.hosted(s, request.match_info["token"], self.rt.clock.now())
        if row is None:
            raise web.HTTPNotFound()
        headers = {"Cache-Control": "private, no-store"}
        if not row.content_type.startswith("image/"):
            headers["Content-Disposition"] = f'attachment; filename="{row.file_name}"'
        return web.Response(body=row.content, content_type=row.content_type, headers=headers)


async def start(updates: Updates) -> web.AppRunner:
    """Serve the LINE routes on LINE_LISTEN:LINE_PORT until the returned runner is cleaned up."""
    server_app = web.Application(client_max_size=1024 * 1024)
    server_app.add_routes(LineServer(updates).routes())
    runner = web.AppRunner(server_app, access_log=None)
    await runner.setup()
    settings = updates.rt.settings
    site = web.TCPSite(runner, settings.line_listen, settings.line_port)
    await site.start()
    log.info("LINE: serving /line/ on %s:%s", settings.line_listen, settings.line_port)
    return runner
