"""Reply latency: 100 patients answer a rating at the same moment; time from each press reaching the
stand-in to the bot's reply reaching it (p50, p99). The real Application long-polls the stand-in, which
runs as its own process (as Telegram is not on the bot's CPU).

    python bench/latency.py -n 100 [--db postgres]      # limiter off and on, and a bare PTB handler

Also the bot's CPU per answer beside a bare python-telegram-bot handler (answer the button, send one
reply: same transport, same stand-in, same presses), ratio printed. CPU is this process's (the bench's
own HTTP client is in it in both cases); the stand-in is another process.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from bench.common import NOW, TOKEN, args, cpu_seconds, database_url, fresh_database, make_app, seed, standin_process
from bot.clock import Clock
from bot.storage.models import ExerciseSession, Patient, Prompt


async def open_questions(url: str, n: int) -> dict[int, int]:
    """Each patient has started today's session and has the 'before' question open: chat -> prompt id."""
    db = await fresh_database(url)
    await seed(db, n, due=0)
    async with db.session() as s:
        patients = (await s.execute(select(Patient.id, Patient.chat_id))).all()
        await s.execute(insert(ExerciseSession), [dict(
            patient_id=pid, local_date=date(2026, 12, 1), planned_at=NOW, status="started", started_at=NOW,
            flags=[], levels={"rom": 1, "reps": 1, "load": 1, "speed": 1}) for pid, _ in patients])
        sessions = dict((await s.execute(select(ExerciseSession.patient_id, ExerciseSession.id))).all())
        await s.execute(insert(Prompt), [dict(patient_id=pid, session_id=sessions[pid], kind="before",
                                              asked_at=NOW, closed=False) for pid, _ in patients])
        prompts = dict((await s.execute(select(Prompt.patient_id, Prompt.id))).all())
    await db.dispose()
    return {chat: prompts[pid] for pid, chat in patients}


async def measure(app, api: str, questions: dict[int, int], *, inbox: bool = True) -> tuple[list[float], float]:
    """Every patient presses "2" at once; ms from each press to that patient's reply, and CPU seconds. The bot
    receives as `python -m bot` does (bot/updates.py: the inbox); the bare PTB handler with PTB's Updater."""
    import aiohttp

    from bot.updates import Updates

    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    stop = asyncio.Event()
    if inbox:
        updates = Updates(app)
        polling = asyncio.create_task(updates.poll(stop, timeout=5))
    else:
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:

        async def answer(chat: int, prompt: int) -> None:
            t0 = time.perf_counter()
            async with http.post(f"{api}/users/{chat}/press",
                                 json={"message_id": 1, "data": f"rt:{prompt}:2", "raw": True}) as r:
                r.raise_for_status()
            async with http.get(f"{api}/chats/{chat}/messages", params={"after_id": 0, "wait": 60}) as r:
                assert await r.json(), f"no reply to chat {chat}"
            latencies.append((time.perf_counter() - t0) * 1000)

        cpu = cpu_seconds()
        await asyncio.gather(*(answer(c, p) for c, p in questions.items()))
        cpu = cpu_seconds() - cpu
    if inbox:
        stop.set()
        await polling
        await updates.drain()
    else:
        await app.updater.stop()
    await app.stop()
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
    return latencies, cpu


def bare_app(base_url: str):
    """python-telegram-bot alone: answer the button, send one reply. Same transport and concurrency."""
    from telegram.ext import Application, CallbackQueryHandler

    from bot.telegram_http import AiohttpRequest

    async def on_press(update, context) -> None:
        await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, "ok")

    app = (Application.builder().token(TOKEN).base_url(base_url).concurrent_updates(8)
           .request(AiohttpRequest(connection_pool_size=40)).build())
    app.add_handler(CallbackQueryHandler(on_press))
    return app


def report(label: str, latencies: list[float], cpu: float) -> float:
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    per = cpu / len(latencies) * 1000
    print(f"  {label:<22} p50={statistics.median(latencies):7.1f} ms p99={p99:7.1f} ms max={max(latencies):7.1f} ms"
          f"   CPU {per:.2f} ms/answer")
    return per


async def main() -> None:
    a = args(__doc__, n=100)
    clock = Clock(frozen_at=NOW + timedelta(minutes=1))
    print(f"latency db={a.db} n={a.n} simultaneous answers")
    # each run with its own stand-in, so every chat starts empty
    with standin_process() as (base_url, api):
        url = database_url(a.db, "latency")
        off = report("bot, limiter off", *await measure(make_app(base_url, url, clock, rate_limit_enabled=False), api,
                                                          await open_questions(url, a.n)))
    with standin_process() as (base_url, api):
        url = database_url(a.db, "latency")
        report("bot, limiter on", *await measure(make_app(base_url, url, clock, rate_limit_enabled=True), api,
                                                 await open_questions(url, a.n)))
    with standin_process() as (base_url, api):
        url = database_url(a.db, "latency")
        bare = report("bare PTB handler", *await measure(bare_app(base_url), api, await open_questions(url, a.n),
                                                          inbox=False))
    print(f"  CPU per answer: bot (limiter off) / bare PTB = {off / bare:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
