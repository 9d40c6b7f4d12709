"""Updates in, so that nothing a patient sends is lost: each update is committed to the inbox table before
Telegram is told it arrived, and is marked done by the transaction that handles it.

    getUpdates(offset) -> store the updates in the inbox, commit -> getUpdates(next offset) (this confirms
    them to Telegram) ... meanwhile each update is handled: Application.process_update -> the handler's
    transaction marks its inbox row done (bot/handlers/common.py) -> updates no handler stored anything for
    (group chatter, throttled commands, a handler that failed) are marked done afterwards.

A kill -9 at any moment loses nothing: an update not yet stored was not confirmed, so Telegram sends it
again; an update stored but not done is handled again at the next start (`resume`), exactly once, because
done is committed with what the handler stored. If the inbox cannot be written (read-only database, full
disk), updates are handled straight away, where the handler's write fails the same way and the person is
told nothing was saved (bot/handlers/common.py), rather than left without an answer.

Webhook mode (`webhook_server`): the 200 goes back only after the inbox commit.
Telegram-side retries follow PTB's Updater: network errors back off up to 30 s, an invalid token stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.config import Settings
from bot.runtime import Runtime
from bot.storage import inbox, outbox

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates open when there is nothing to send
PURGE_EVERY = timedelta(minutes=1)  # done inbox rows and sent answers are deleted with a store at most this often


class Updates:
    """One per process, in `application.bot_data["updates"]`: stores, confirms and hands out updates."""

    def __init__(self, app: Application, concurrency: int = 8) -> None:
        self.app = app
        self.rt: Runtime = app.bot_data["runtime"]
        self._gate = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()
        self.confirmed_below: int | None = None  # Telegram was told every update below this arrived
        self._purged_at: datetime | None = None
        app.bot_data["updates"] = self

    # --- in ----------------------------------------------------------------------------------------
    async def resume(self) -> int:
        """Handle the updates a previous run stored and did not finish (killed, or the database failed)."""
        async with self.rt.db.session() as s:
            rows = await inbox.pending(s)
        if rows:
            log.info("inbox: handling %d update(s) stored before the restart", len(rows))
        for raw in rows:
            self._dispatch(Update.de_json(raw, self.app.bot))
        return len(rows)

    async def receive(self, updates: list[Update]) -> bool:
        """Commit these updates to the inbox, then hand the new ones to the handlers (one Telegram sends again
        is handled once). False when the inbox could not be written: they are handled anyway (their handlers
        will say nothing was saved)."""
        new = await self.store(updates)
        for update in updates:
            if new is None or update.update_id in new:
                self._dispatch(update)
        return new is not None

    async def receive_raw(self, raw: list[dict[str, Any]]) -> bool:
        """`receive` for updates as dicts (LINE's events, bot/line/events.py, arrive as Bot API updates)."""
        return await self.receive([Update.de_json(u, self.app.bot) for u in raw])

    async def store(self, updates: list[Update]) -> set[int] | None:
        """One transaction: the updates in, and (at most once a minute) what Telegram can no longer send again
        purged (done inbox rows below the confirmed offset) with the answers the delivery runner sent. The
        ids of the updates that were new; None if the inbox could not be written."""
        try:
            async with self.rt.db.session() as s:
                now = self.rt.clock.now()
                new = await inbox.store(s, [u.to_dict() for u in updates], now)
                if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
                    await inbox.purge(s, now, confirmed_below=self.confirmed_below)
                    await outbox.forget_replies(s)
                    self._purged_at = now
            return new
        except Exception as exc:
            log.error("inbox: %d update(s) could not be stored (%s); handling them without the inbox",
                      len(updates), type(exc).__name__)
            return None

    async def poll(self, stop: asyncio.Event, *, timeout: int = POLL_TIMEOUT,  # noqa: ASYNC109 - Telegram's
                   allowed_updates: list[str] | None = None) -> None:
        """Long polling until `stop` is set. The next offset is asked for only after the inbox commit. It starts
        from Telegram's own (the oldest update not confirmed): after a week without updates Telegram picks the
        next id at random, so an offset from our newest id could confirm, and lose, a lower one."""
        offset: int | None = None
        allowed = allowed_updates if allowed_updates is not None else list(Update.ALL_TYPES)
        delay = 0.0
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                fetch = asyncio.create_task(self.app.bot.get_updates(
                    offset=offset, timeout=timeout, allowed_updates=allowed))
                await asyncio.wait([fetch, stopping], return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():  # stopping: whatever this call would bring, Telegram sends again
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await fetch
                    break
                try:
                    updates = fetch.result()
                except InvalidToken:
                    raise
                except (TimedOut, NetworkError) as exc:  # Telegram unreachable: back off, lose nothing
                    delay = min(max(delay * 2, 1.0), 30.0)
                    log.warning("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, delay)
                    await asyncio.wait([stopping], timeout=delay)
                    continue
                delay = 0.0
                self.confirmed_below = offset
                if updates:
                    await self.receive(list(updates))
                    offset = updates[-1].update_id + 1
        finally:
            stopping.cancel()

    # --- handling ------------------------------------------------------------------------------------
    def _dispatch(self, update: Update) -> None:
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, update: Update) -> None:
        async with self._gate:
            try:
                await self.app.process_update(update)
            except Exception:  # process_update gives handler errors to the error handler; this is the rest
                log.exception("update %s could not be handled", update.update_id)
            if self.rt.done_updates.pop(update.update_id, False):
                return  # its handler's transaction marked it done
            try:  # nothing stored for it (group chatter, throttled, a handler that failed): done now
                async with self.rt.db.session() as s:
                    await inbox.done(s, [update.update_id], self.rt.clock.now())
            except Exception as exc:  # left not done: the next start handles it again
                log.error("inbox: could not mark update %s done (%s)", update.update_id, type(exc).__name__)

    async def drain(self) -> None:
        """Wait for the updates being handled (at shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def run(app: Application, settings: Settings, *, webhook: bool = False) -> None:
    """`python -m bot [--webhook]`: the Application with our own receiving (above) instead of PTB's Updater,
    whose next offset (or webhook 200) confirms an update before it is handled. SIGINT/SIGTERM stop it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(app, (lambda updates: webhook_server(updates, settings, stop)) if webhook
                    else (lambda updates: updates.poll(stop)))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def webhook_server(updates: Updates, settings: Settings, stop: asyncio.Event) -> None:
    """Webhook mode: Telegram POSTs each update to WEBHOOK_URL (through the proxy) with WEBHOOK_SECRET in a
    header; the 200 goes back only once the update is committed to the inbox (a request without the secret
    gets 403 and nothing is stored). Registers the webhook at start; serves until `stop` is set."""
    url, secret = settings.require_webhook()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), updates.app.bot)
        except Exception:  # not an update: nothing to store
            return web.Response(status=400)
        await updates.receive([update])  # committed (or, the database failing, handled to say so) first
        return web.Response(status=200)

    server_app = web.Application()
    server_app.router.add_post("/" + urlsplit(url).path.lstrip("/"), receive)
    server = web.AppRunner(server_app, access_log=None)
    await server.setup()
    try:
        await web.TCPSite(server, settings.webhook_listen, settings.webhook_port).start()
        await updates.app.bot.set_webhook(url, secret_token=secret, allowed_updates=list(Update.ALL_TYPES))
        await stop.wait()
    finally:
        await server.cleanup()


async def _line_server(updates: Updates) -> web.AppRunner | None:
    """LINE's webhook and pictures (bot/line/server.py), when LINE is configured."""
    if not updates.rt.settings.line_enabled:
        return None
    from bot.line import server

    return await server.start(updates)


async def serve(app: Application, receive: Any) -> None:
    """Initialise and start the Application (post_init: migrate, delivery, health), handle what the inbox
    still holds, run `receive(updates)` until it returns, then stop in order."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        updates = Updates(app)
        line = await _line_server(updates)
        try:
            await updates.resume()
            await receive(updates)
        finally:
            if line is not None:
                await line.cleanup()
            await updates.drain()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
