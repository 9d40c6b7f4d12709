"""Webhook mode (several instances behind a load balancer) and the health endpoint."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta

import aiohttp
from sqlalchemy import select

from bench.common import free_port
from bot.app import build_application
from bot.clock import Clock
from bot.config import Settings
from bot.storage.models import Inbox
from bot.updates import Updates, serve, webhook_server
from tests.harness import TOKEN
from tests.helpers import START, USER, enrol

SECRET = "s3cret-webhook-token-1234"


async def test_updates_arrive_by_webhook_with_the_secret_checked(standin, sqlite_url):
    port, health_port = free_port(), free_port()
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=sqlite_url,
                        telegram_api_base_url=standin.base_url, rate_limit_enabled=False,
                        webhook_url=f"http://127.0.0.1:{port}/telegram", webhook_secret=SECRET,
                        webhook_port=port, health_port=health_port)
    app = build_application(settings, clock=Clock(frozen_at=START), run_delivery_job=False)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, lambda updates: webhook_server(updates, settings, stop)))
    try:
        await standin.wait_until(lambda: bool(standin.webhook.get("url")), 60)  # registered at start-up
        assert standin.webhook["url"] == f"http://127.0.0.1:{port}/telegram"
        await standin.user_sends_text(7001, "/start")
        [reply] = await standin.wait_for_messages(7001, 1)
        assert "いたみコーチです" in reply.body
        async with aiohttp.ClientSession() as http:
            # a post without the secret is refused, and nothing of it is stored
            async with http.post(f"http://127.0.0.1:{port}/telegram",
                                 json={"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "5",
                                                                   "chat": {"id": 7001, "type": "private"}}}) as r:
                assert r.status == 403
            async with http.get(f"http://127.0.0.1:{health_port}/health") as response:
                body = await response.json()
        assert response.status == 200 and body["pending"] >= 0 and "instance" in body
        async with app.bot_data["runtime"].db.session() as s:
            rows = list(await s.scalars(select(Inbox)))
        assert [r.update_id for r in rows] != [1] and all(r.update_id != 1 for r in rows)
        assert all(r.done_at is not None and r.update is None for r in rows)  # the /start: stored, then done
        assert len(rows) == 1
    finally:
        stop.set()
        await serving


async def test_the_webhook_answers_200_only_after_the_update_is_committed(standin, sqlite_url, monkeypatch):
    port = free_port()
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=sqlite_url,
                        telegram_api_base_url=standin.base_url, rate_limit_enabled=False,
                        webhook_url=f"http://127.0.0.1:{port}/telegram", webhook_secret=SECRET, webhook_port=port)
    app = build_application(settings, clock=Clock(frozen_at=START), run_delivery_job=False)
    stop = asyncio.Event()
    seen: list[str] = []
    real_store = Updates.store

    async def store(self, updates):
        seen.append("store")
        stored = await real_store(self, updates)
        seen.append("committed")
        return stored

    monkeypatch.setattr(Updates, "store", store)
    serving = asyncio.create_task(serve(app, lambda updates: webhook_server(updates, settings, stop)))
    try:
        await standin.wait_until(lambda: bool(standin.webhook.get("url")), 60)
        update = {"update_id": 42, "message": {"message_id": 1, "date": 0, "text": "/help",
                                               "from": {"id": 7002, "is_bot": False, "first_name": "x"},
                                               "chat": {"id": 7002, "type": "private"}}}
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{port}/telegram", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200
            assert seen == ["store", "committed"]  # the 200 came after the inbox commit
        async with app.bot_data["runtime"].db.session() as s:
            assert (await s.get(Inbox, 42)) is not None
    finally:
        stop.set()
        await serving


def test_webhook_settings_are_required_and_explained(tmp_path):
    env = {"TELEGRAM_BOT_TOKEN": "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot", "--webhook"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "WEBHOOK_URL" in result.stderr and "Traceback" not in result.stderr
    env["WEBHOOK_URL"] = "https://coach.example.jp/tg"
    env["WEBHOOK_SECRET"] = "short"
    result = subprocess.run([sys.executable, "-m", "bot", "--webhook"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "WEBHOOK_SECRET" in result.stderr


async def test_status_reports_the_queue(coach, tmp_path):

    await enrol(coach, USER)
    coach.clock.travel(timedelta(hours=2))
    db_url = coach.settings.database_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "status", cwd=tmp_path, env={"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    figures = json.loads(out)
    assert figures["pending"] >= 1 and figures["failed"] == 0 and "instance" in figures



async def _status(db_url: str, tmp_path, **env: str) -> tuple[dict, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "status", cwd=tmp_path,
        env={"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return json.loads(out), err.decode()


async def test_status_warns_about_missing_clinic_contact_and_alerts_with_nowhere_to_go(coach, tmp_path):
    """Issue 8: the operator sees that red-flag advice lacks the clinic's phone and that alerts reach no one."""
    db_url = coach.settings.database_url
    figures, err = await _status(db_url, tmp_path)
    assert any("CLINIC_PHONE" in w for w in figures["warnings"]) and "CLINIC_PHONE" in err
    assert any("alerts have nowhere to go" in w for w in figures["warnings"])
    figures, err = await _status(db_url, tmp_path, CLINIC_NAME="いたみ整形外科", CLINIC_PHONE="03-1234-5678",
                                 CLINIC_HOURS="平日 9:00〜18:00", STAFF_CHAT_ID="-100123")
    assert figures["warnings"] == [] and "warning" not in err
