"""Health and queue figures: shared by `python -m bot status` and the optional HTTP endpoint
(HEALTH_PORT, GET /health on 127.0.0.1) that a load balancer or monitor can poll."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.runtime import Runtime
from bot.storage import outbox


async def figures(rt: Runtime, runner=None) -> dict[str, Any]:
    async with rt.db.session() as s:
        queue = await outbox.depth(s, rt.clock.now())
    out: dict[str, Any] = {"instance": rt.worker_id, **queue}
    if runner is not None:
        out.update(sent_by_this_instance=runner.sent, errors_in_this_instance=runner.errors)
    return out


async def start_server(rt: Runtime, runner, port: int) -> web.AppRunner:
    async def health(request: web.Request) -> web.Response:
        try:
            body, status = await figures(rt, runner), 200
        except Exception as exc:  # the database is down: say so, with 503 for the load balancer
            body, status = {"instance": rt.worker_id, "error": type(exc).__name__}, 503
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, default=str))

    app = web.Application()
    app.router.add_get("/health", health)
    server = web.AppRunner(app, access_log=None)
    await server.setup()
    await web.TCPSite(server, "127.0.0.1", port).start()
    return server
