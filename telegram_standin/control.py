"""The test-side API over HTTP, under ``/_standin/`` (for a bot in another process, benchmarks and
the terminal chat). Errors answer ``{"ok": false, "error": "..."}`` with status 400 (408 on a wait
that timed out).

====== =========================================== ==============================================
POST   /_standin/users/{user_id}/text              {"text", "first_name"?, "username"?} -> update
POST   /_standin/users/{user_id}/sticker           {"emoji"?} -> update
POST   /_standin/users/{user_id}/photo             {"caption"?} -> update
POST   /_standin/users/{user_id}/press             {"message_id", "data" | "button_text", "chat_id"?,
                                                   "raw"?: bool} -> {"callback_query_id"}
POST   /_standin/users/{user_id}/block             -> {"ok": true}
POST   /_standin/users/{user_id}/unblock           -> {"ok": true}
GET    /_standin/chats                             -> [{"chat_id", "messages"}]
GET    /_standin/chats/{chat_id}/messages          ?after_id=N&wait=SECONDS&after_rev=R -> [message]
                                                   (with wait: long-polls until a message with id > N
                                                   exists, or the chat's revision > R when after_rev
                                                   is given; header X-Standin-Rev = chat revision)
POST   /_standin/chats/{chat_id}/wait              {"count", "timeout"?} -> [message] or 408
GET    /_standin/stats                             -> stats dict
GET    /_standin/callback_answers                  -> [{"query_id", "text", "show_alert"}]
GET    /_standin/commands                          -> [{"scope", "language_code", "commands"}]
POST   /_standin/limits                            {"global_rate"?, "per_chat_rate"?} (null = off)
POST   /_standin/faults                            {Faults fields..., "seed"?}
POST   /_standin/updates/consumed                  {"timeout"?} -> {"ok": true} or 408
POST   /_standin/reset                             -> {"ok": true}
====== =========================================== ==============================================
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Faults

if TYPE_CHECKING:
    from .server import StandIn

PREFIX = "/_standin"


def _ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _err(message: str, status: int = 400) -> web.Response:
    return _ok({"ok": False, "error": message}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("JSON object expected")
        return body
    return dict(await request.post())


def _wrap(fn: Callable[[web.Request], Awaitable[web.Response]]) -> Callable[..., Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            return await fn(request)
        except AssertionError as exc:
            return _err(str(exc), 408)
        except (ValueError, KeyError, LookupError, TypeError) as exc:
            return _err(f"{type(exc).__name__}: {exc}")

    return handler


def add_control_routes(app: web.Application, tg: StandIn) -> None:
    def uid(request: web.Request, key: str = "user_id") -> int:
        return int(request.match_info[key])

    async def text(request: web.Request) -> web.Response:
        b = await _body(request)
        if "text" not in b:
            raise ValueError('"text" is required')
        return _ok(await tg.user_sends_text(uid(request), str(b["text"]), b.get("first_name"), b.get("username")))

    async def sticker(request: web.Request) -> web.Response:
        b = await _body(request)
        return _ok(await tg.user_sends_sticker(uid(request), b.get("emoji", "👍")))

    async def photo(request: web.Request) -> web.Response:
        b = await _body(request)
        return _ok(await tg.user_sends_photo(uid(request), b.get("caption")))

    async def press(request: web.Request) -> web.Response:
        b = await _body(request)
        user_id = uid(request)
        message_id = int(b["message_id"])
        chat_id = int(b["chat_id"]) if b.get("chat_id") is not None else None
        if b.get("raw"):
            qid = await tg.user_presses_raw(user_id, str(b["data"]), message_id, chat_id=chat_id)
        else:
            qid = await tg.user_presses(
                user_id, message_id, data=b.get("data"), button_text=b.get("button_text"), chat_id=chat_id
            )
        return _ok({"ok": True, "callback_query_id": qid})

    async def block(request: web.Request) -> web.Response:
        tg.block(uid(request))
        return _ok({"ok": True})

    async def unblock(request: web.Request) -> web.Response:
        tg.unblock(uid(request))
        return _ok({"ok": True})

    async def chats(request: web.Request) -> web.Response:
        return _ok([{"chat_id": c.chat_id, "messages": len(c.messages)} for c in tg.state.chats.values()])

    async def messages(request: web.Request) -> web.Response:
        chat_id = uid(request, "chat_id")
        after_id = int(request.query.get("after_id", 0))
        wait = min(float(request.query.get("wait", 0)), 60.0)
        after_rev = request.query.get("after_rev")

        def rev() -> int:
            chat = tg.state.chats.get(chat_id)
            return chat.rev if chat else 0

        def ready() -> bool:
            if after_rev is not None:
                return rev() > int(after_rev)
            last = tg.last_message(chat_id)
            return last is not None and last.message_id > after_id

        if wait > 0:
            with contextlib.suppress(AssertionError):
                await tg.wait_until(ready, wait)
        body = [m.to_json() for m in tg.messages(chat_id) if m.message_id > after_id]
        return _ok(body, headers={"X-Standin-Rev": str(rev())})

    async def wait_messages(request: web.Request) -> web.Response:
        b = await _body(request)
        chat_id = uid(request, "chat_id")
        msgs = await tg.wait_for_messages(chat_id, int(b["count"]), float(b.get("timeout", 10.0)))
        return _ok([m.to_json() for m in msgs])

    async def stats(request: web.Request) -> web.Response:
        return _ok(tg.stats)

    async def answers(request: web.Request) -> web.Response:
        return _ok([{"query_id": q, "text": t, "show_alert": a} for q, t, a in tg.callback_answers])

    async def commands(request: web.Request) -> web.Response:
        return _ok(
            [{"scope": scope, "language_code": lang, "commands": cmds} for (scope, lang), cmds in tg.commands.items()]
        )

    async def limits(request: web.Request) -> web.Response:
        b = await _body(request)
        kwargs = {k: (float(b[k]) if b[k] is not None else None) for k in ("global_rate", "per_chat_rate") if k in b}
        tg.set_limits(**kwargs)
        return _ok({"ok": True, **tg.stats["limits"]})

    async def faults(request: web.Request) -> web.Response:
        b = await _body(request)
        seed = b.pop("seed", None)
        tg.set_faults(Faults.from_dict(b), int(seed) if seed is not None else None)
        return _ok({"ok": True, **tg.faults.faults.to_dict()})

    async def consumed(request: web.Request) -> web.Response:
        b = await _body(request)
        await tg.wait_for_updates_consumed(float(b.get("timeout", 10.0)))
        return _ok({"ok": True})

    async def reset(request: web.Request) -> web.Response:
        await tg.reset()
        return _ok({"ok": True})

    r = app.router
    r.add_post(f"{PREFIX}/users/{{user_id}}/text", _wrap(text))
    r.add_post(f"{PREFIX}/users/{{user_id}}/sticker", _wrap(sticker))
    r.add_post(f"{PREFIX}/users/{{user_id}}/photo", _wrap(photo))
    r.add_post(f"{PREFIX}/users/{{user_id}}/press", _wrap(press))
    r.add_post(f"{PREFIX}/users/{{user_id}}/block", _wrap(block))
    r.add_post(f"{PREFIX}/users/{{user_id}}/unblock", _wrap(unblock))
    r.add_get(f"{PREFIX}/chats", _wrap(chats))
    r.add_get(f"{PREFIX}/chats/{{chat_id}}/messages", _wrap(messages))
    r.add_post(f"{PREFIX}/chats/{{chat_id}}/wait", _wrap(wait_messages))
    r.add_get(f"{PREFIX}/stats", _wrap(stats))
    r.add_get(f"{PREFIX}/callback_answers", _wrap(answers))
    r.add_get(f"{PREFIX}/commands", _wrap(commands))
    r.add_post(f"{PREFIX}/limits", _wrap(limits))
    r.add_post(f"{PREFIX}/faults", _wrap(faults))
    r.add_post(f"{PREFIX}/updates/consumed", _wrap(consumed))
    r.add_post(f"{PREFIX}/reset", _wrap(reset))
