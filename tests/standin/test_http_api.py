"""The stand-in over plain HTTP: raw Bot API calls, the /_standin control API, webhooks, the CLI."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from telegram_standin import StandIn

from .conftest import TOKEN, USER


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_raw_json_body_and_get(standin: StandIn, http: aiohttp.ClientSession) -> None:
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    async with http.post(
        f"{standin.base_url}{TOKEN}/sendMessage", json={"chat_id": USER, "text": "hi", "reply_markup": markup}
    ) as resp:
        body = await resp.json()
    assert resp.status == 200 and body["ok"] is True
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["from"]["id"] == 123456
    async with http.get(f"{standin.base_url}{TOKEN}/getMe") as resp:
        assert (await resp.json())["result"]["username"] == "itami_coach_bot"
    async with http.get(f"{standin.base_url}{TOKEN}/sendMessage?chat_id={USER}&text=q") as resp:
        assert (await resp.json())["result"]["text"] == "q"


async def test_error_shapes(standin: StandIn, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{standin.base_url}{TOKEN}/noSuchMethod") as resp:
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with http.post(f"{standin.base_url}1:other/getMe") as resp:
        assert resp.status == 401
        assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with http.post(f"{standin.base_url}{TOKEN}/sendMessage", data={"chat_id": str(USER)}) as resp:
        assert resp.status == 400
        assert await resp.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message text is empty",
        }
    standin.set_limits(global_rate=1)
    for _ in range(2):
        async with http.post(f"{standin.base_url}{TOKEN}/sendMessage", data={"chat_id": "1", "text": "x"}) as resp:
            body = await resp.json()
    assert resp.status == 429
    assert body["parameters"]["retry_after"] >= 1
    assert body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"


async def test_control_api(standin: StandIn, http: aiohttp.ClientSession) -> None:
    ctl = f"{standin.url}/_standin"
    api = f"{standin.base_url}{TOKEN}"
    async with http.post(f"{ctl}/users/{USER}/text", json={"text": "こんにちは", "username": "taro"}) as resp:
        update = await resp.json()
    assert update["message"]["text"] == "こんにちは"
    assert update["message"]["from"]["username"] == "taro"

    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    for text in ("one", "two"):
        async with http.post(f"{api}/sendMessage", data={"chat_id": USER, "text": text, "reply_markup": markup}):
            pass
    async with http.get(f"{ctl}/chats/{USER}/messages") as resp:
        msgs = await resp.json()
    assert [m["text"] for m in msgs] == ["one", "two"]
    assert msgs[0]["buttons"] == [[["A", "a"]]]
    first_id = msgs[0]["message_id"]
    async with http.get(f"{ctl}/chats/{USER}/messages", params={"after_id": first_id}) as resp:
        assert [m["text"] for m in await resp.json()] == ["two"]
        rev = int(resp.headers["X-Standin-Rev"])

    # long-poll for a new message
    waiter = asyncio.create_task(http.get(f"{ctl}/chats/{USER}/messages", params={"after_rev": rev, "wait": 5}))
    async with http.post(f"{api}/sendMessage", data={"chat_id": USER, "text": "three"}):
        pass
    async with await waiter as resp:
        assert [m["text"] for m in await resp.json()][-1] == "three"

    async with http.post(f"{ctl}/users/{USER}/press", json={"message_id": first_id, "button_text": "A"}) as resp:
        qid = (await resp.json())["callback_query_id"]
    async with http.post(f"{ctl}/users/{USER}/press", json={"message_id": first_id, "data": "x", "raw": True}):
        pass
    async with http.post(f"{api}/getUpdates") as resp:
        updates = (await resp.json())["result"]
    assert [("callback_query" in u) for u in updates] == [False, True, True]
    assert updates[1]["callback_query"]["id"] == qid
    assert updates[1]["callback_query"]["data"] == "a"
    async with http.post(f"{api}/answerCallbackQuery", data={"callback_query_id": qid, "text": "ok"}):
        pass
    async with http.get(f"{ctl}/callback_answers") as resp:
        assert await resp.json() == [{"query_id": qid, "text": "ok", "show_alert": False}]

    async with http.post(f"{ctl}/users/{USER}/press", json={"message_id": 999, "data": "a"}) as resp:
        assert resp.status == 400 and "no message 999" in (await resp.json())["error"]

    async with http.post(f"{ctl}/users/{USER}/block") as resp:
        assert resp.status == 200
    async with http.post(f"{api}/sendMessage", data={"chat_id": USER, "text": "x"}) as resp:
        assert resp.status == 403
        assert (await resp.json())["description"] == "Forbidden: bot was blocked by the user"
    async with http.post(f"{ctl}/users/{USER}/unblock"):
        pass

    async with http.post(f"{ctl}/limits", json={"global_rate": 30, "per_chat_rate": 1}) as resp:
        assert (await resp.json())["global_rate"] == 30
    async with http.post(f"{ctl}/faults", json={"error_5xx_rate": 1.0, "seed": 7}) as resp:
        assert resp.status == 200
    async with http.post(f"{api}/sendMessage", data={"chat_id": 5, "text": "x"}) as resp:
        assert resp.status in (500, 502)
        assert (await resp.json())["ok"] is False
    async with http.post(f"{ctl}/faults", json={"bogus": 1}) as resp:
        assert resp.status == 400
    async with http.post(f"{ctl}/faults", json={}):
        pass

    async with http.get(f"{ctl}/stats") as resp:
        stats = await resp.json()
    assert stats["messages_delivered"] == 3
    assert stats["rejected_403"] == 1
    assert stats["faults_5xx"] == 1
    assert stats["requests"]["sendMessage"] == 5
    assert stats["limits"] == {"global_rate": 30.0, "per_chat_rate": 1.0}

    async with http.post(f"{ctl}/chats/{USER}/wait", json={"count": 10, "timeout": 0.01}) as resp:
        assert resp.status == 408
        assert f"chat {USER}" in (await resp.json())["error"]

    async with http.post(f"{ctl}/reset") as resp:
        assert resp.status == 200
    assert standin.messages(USER) == []
    assert standin.stats["messages_delivered"] == 0
    async with http.post(f"{ctl}/updates/consumed", json={"timeout": 1}) as resp:
        assert resp.status == 200


class _Hook:
    """A tiny webhook receiver on 127.0.0.1 that fails the first ``fail_first`` POSTs."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict, str | None]] = []
        self.attempts = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return web.Response(status=500)
        self.received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response(text="ok")


async def test_webhook_delivery_with_secret_and_retry(standin: StandIn, http: aiohttp.ClientSession) -> None:
    hook = _Hook(fail_first=1)
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    api = f"{standin.base_url}{TOKEN}"
    try:
        async with http.post(
            f"{api}/setWebhook", data={"url": f"http://127.0.0.1:{port}/hook", "secret_token": "s3cret"}
        ) as resp:
            assert (await resp.json())["result"] is True
        await standin.user_sends_text(USER, "webhook please")
        await standin.wait_for_updates_consumed(timeout=5)
        assert len(hook.received) == 1
        update, secret = hook.received[0]
        assert update["message"]["text"] == "webhook please"
        assert secret == "s3cret"
        assert hook.attempts == 2
        assert standin.stats["webhook_failures"] == 1
        async with http.post(f"{api}/getUpdates") as resp:
            assert resp.status == 409
        async with http.post(f"{api}/getWebhookInfo") as resp:
            assert (await resp.json())["result"]["url"].endswith("/hook")
        async with http.post(f"{api}/deleteWebhook"):
            pass
        await standin.user_sends_text(USER, "polling again")
        async with http.post(f"{api}/getUpdates") as resp:
            assert [u["message"]["text"] for u in (await resp.json())["result"]] == ["polling again"]
    finally:
        await runner.cleanup()


async def test_cli_starts_and_stops_on_sigint() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "telegram_standin", "--port", "0", "--token", TOKEN,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert "base_url=http://127.0.0.1:" in line
        base_url = line.strip().split("base_url=", 1)[1]
        async with aiohttp.ClientSession() as http, http.get(f"{base_url}{TOKEN}/getMe") as resp:
            assert (await resp.json())["ok"] is True
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
