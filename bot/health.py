"""Health and queue figures: shared by `python -m bot status` and the optional HTTP endpoint
(HEALTH_PORT, GET /health on 127.0.0.1) that a load balancer or monitor can poll."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.line import quota
from bot.runtime import Runtime
from bot.storage import outbox


async def figures(rt: Runtime, runner=None) -> dict[str, Any]:
    """Queue figures, and whether this process's database writes are failing lately (read-only database,
    full disk: bot/storage/db.py WriteHealth)."""
    async with rt.db.session() as s:
        queue = await outbox.depth(s, rt.clock.now())
        line = await quota.figures(s, rt)
    out: dict[str, Any] = {"instance": rt.worker_id, **queue, **rt.db.writes.figures()}
    if line is not None:
        out["line"] = line  # this month's pushes, replies, cap and projection (bot/line/quota.py)
    if runner is not None:
        out.update(sent_by_this_instance=runner.sent, errors_in_this_instance=runner.errors)
    return out


async def start_server(rt: Runtime, runner, port: int) -> web.AppRunner:
    async def health(request: web.Request) -> web.Response:
        """200 while healthy; 503 while the database cannot be read or writes keep failing (nothing a
        patient sends can be stored), until a write succeeds again."""
        try:
            body = await figures(rt, runner)
            status = 503 if body["writes_failing"] else 200
        except Exception as exc:  # the database is down: say so, with 503 for the load balancer
            body, status = {"instance": rt.worker_id, "error": type(exc).__name__, **rt.db.writes.figures()}, 503
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, default=str))

    app = web.Application()
    app.router.add_get("/health", health)
    server = web.AppRunner(app, access_log=None)
    await server.setup()
    await web.TCPSite(server, "127.0.0.1", port).start()
    return server
