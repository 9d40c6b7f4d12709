"""Delivery: scheduler tick -> claim due rows atomically -> prepare -> send (rate-limited) -> record.

Exactly-once bookkeeping: a row is claimed with a lease (so a second instance never takes it), prepared
and committed, sent, then marked `sent`. A crash before the send leaves a claimed row whose lease
expires and is delivered again; preparation is idempotent (dedupe keys, the prompt id kept in the row).
A crash in the few milliseconds between Telegram accepting a message and the row being marked can
repeat that one message after the lease: Telegram offers no idempotency key (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import coaching
from bot.delivery.kinds import prepare
from bot.replies import Reply
from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Outbox, Patient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


async def send(bot: Bot, chat_id: int, reply: Reply) -> None:
    if reply.document is not None:
        name, content = reply.document
        await bot.send_document(chat_id, document=content, filename=name, caption=reply.text or None)
    else:
        await bot.send_message(chat_id, reply.text, reply_markup=reply.markup)


class DeliveryRunner:
    """One per process. `tick()` is run by the JobQueue; tests call `run_until_idle()` after moving the clock."""

    def __init__(self, rt: Runtime, bot: Bot) -> None:
        self.rt = rt
        self.bot = bot
        self.sent = 0
        self.errors = 0
        self._lock = asyncio.Lock()

    async def tick(self) -> int:
        """Claim one batch of due rows and deliver them concurrently. Returns how many were claimed."""
        async with self._lock:
            rt = self.rt
            try:
                async with rt.db.session() as s:
                    rows = await outbox.claim_due(
                        s, now=rt.clock.now(), worker=rt.worker_id, limit=rt.settings.delivery_batch_size,
                        lease=timedelta(seconds=rt.settings.delivery_lease_seconds))
            except Exception:  # database down: try again at the next tick, lose nothing
                log.exception("delivery: could not claim due rows")
                self.errors += 1
                return 0
            if not rows:
                return 0
            gate = asyncio.Semaphore(rt.settings.delivery_concurrency)

            async def one(row: Outbox) -> None:
                async with gate:
                    await self._deliver(row.id)

            await asyncio.gather(*(one(r) for r in rows))
            return len(rows)

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            n = await self.tick()
            if n == 0:
                break
            total += n
        return total

    async def _deliver(self, row_id: int) -> None:
        rt = self.rt
        worker = rt.worker_id
        attempts = 1
        try:
            async with rt.db.session() as s:
                row = await s.get(Outbox, row_id)
                if row is None or row.state != outbox.CLAIMED or row.claimed_by != worker:
                    return
                prepared = await prepare(s, rt, row)
                attempts = row.attempts
                if not prepared.messages:
                    await outbox.finish(s, row_id, worker=worker, state=prepared.state, now=rt.clock.now())
                    return
            for chat_id, reply in prepared.messages:
                await send(self.bot, chat_id, reply)
            async with rt.db.session() as s:
                await outbox.finish(s, row_id, worker=worker, state=outbox.SENT, now=rt.clock.now())
            self.sent += 1
        except RetryAfter as exc:
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            await self._later(row_id, rt.clock.now() + timedelta(seconds=delay), f"429 retry_after={delay}")
        except Forbidden:
            await self._unreachable(row_id)
        except BadRequest as exc:
            log.warning("delivery: row %s rejected by Telegram: %s", row_id, exc.message)
            await self._finish(row_id, outbox.FAILED, f"400 {exc.message}")
        except (NetworkError, TelegramError) as exc:  # timeouts and 5xx
            await self._retry(row_id, attempts, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            log.exception("delivery: row %s failed", row_id)
            await self._retry(row_id, attempts, f"{type(exc).__name__}")

    async def _retry(self, row_id: int, attempts: int, error: str) -> None:
        self.errors += 1
        if attempts >= MAX_ATTEMPTS:
            await self._finish(row_id, outbox.FAILED, error)
        else:
            await self._later(row_id, self.rt.clock.now() + backoff(attempts), error)

    async def _later(self, row_id: int, due, error: str) -> None:
        try:
            async with self.rt.db.session() as s:
                await outbox.retry_later(s, row_id, worker=self.rt.worker_id, due_at=due, error=error)
        except Exception:  # the lease will expire and the row will be taken again
            log.exception("delivery: could not reschedule row %s", row_id)

    async def _finish(self, row_id: int, state: str, error: str | None = None) -> None:
        try:
            async with self.rt.db.session() as s:
                await outbox.finish(s, row_id, worker=self.rt.worker_id, state=state, now=self.rt.clock.now(),
                                    error=error)
        except Exception:
            log.exception("delivery: could not record row %s", row_id)

    async def _unreachable(self, row_id: int) -> None:
        """403: the patient blocked the bot. Stop their reminders until they write again."""
        try:
            async with self.rt.db.session() as s:
                row = await s.get(Outbox, row_id)
                await outbox.finish(s, row_id, worker=self.rt.worker_id, state=outbox.FAILED,
                                    now=self.rt.clock.now(), error="403 blocked")
                if row is not None and row.patient_id is not None:
                    p = await s.get(Patient, row.patient_id)
                    if p is not None:
                        log.info("delivery: patient %s blocked the bot; reminders stop", p.id)
                        p.unreachable = True
                        await outbox.cancel(s, patient_id=p.id,
                                            kinds=coaching.REMINDER_KINDS + coaching.SESSION_PROMPT_KINDS + ("why",))
        except Exception:
            log.exception("delivery: could not record 403 for row %s", row_id)
