"""Delivery: scheduler tick -> claim due rows atomically -> prepare -> send (rate-limited, bulk lane) -> record.

Exactly-once bookkeeping: a row is claimed with a lease (so a second instance never takes it), prepared
and committed (reminders a batch at a time: bot/delivery/reminders.py), checked to be still claimed right
before its send (a /delete meanwhile withdraws it), sent, then marked `sent` in group commits. A crash
before the send leaves a claimed row whose lease expires and is delivered again; preparation is
idempotent (dedupe keys, the prompt id kept in the row).
A crash in the few milliseconds between Telegram accepting a message and the row being marked can
repeat that one message after the lease: Telegram offers no idempotency key (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from bot import alerts, coaching
from bot.batching import Batched
from bot.coaching.messages import Blocked, Channel, Held, Rejected, Reply, RetryLater, Unavailable
from bot.delivery import kinds, registry
from bot.delivery.registry import CLINIC_KINDS
from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Outbox, Patient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


@dataclass
class _Job:
    """A prepared row: what to send, and how often it has been tried."""

    row_id: int
    attempts: int
    messages: list[tuple[int, Reply]]
    sent_some: bool = False  # at least one of its messages reached its chat (an alert reached someone)


def _still_claimed(rt: Runtime) -> Batched[bool]:
    """Right before a prepared row is sent: is it still claimed by this instance? A /delete erases the
    patient's rows, claimed ones included, so a reminder prepared a moment earlier is not sent after it.
    Checks of rows waiting at the same moment share one query (sends run DELIVERY_CONCURRENCY at a time)."""

    async def check(ids: list[int]) -> dict[int, bool]:
        try:
            async with rt.db.session() as s:
                ours = set(await s.scalars(select(col(Outbox.id)).where(
                    col(Outbox.id).in_(ids), Outbox.state == outbox.CLAIMED, Outbox.claimed_by == rt.worker_id)))
        except Exception:  # database down: send as prepared (better than losing the message)
            log.exception("delivery: could not re-check %d rows before sending", len(ids))
            ours = set(ids)
        return {row_id: row_id in ours for row_id in ids}

    return Batched(check)


def _by_chat(messages: list[tuple[int, Reply]]) -> list[tuple[int, list[Reply]]]:
    """A row's messages, each run of messages to one chat together (sent in one request where the channel can)."""
    groups: list[tuple[int, list[Reply]]] = []
    for chat_id, reply in messages:
        if groups and groups[-1][0] == chat_id:
            groups[-1][1].append(reply)
        else:
            groups.append((chat_id, [reply]))
    return groups


class DeliveryRunner:
    """One per process. The JobQueue's delivery job calls `run_until_idle()`; so do tests, after moving
    the clock."""

    def __init__(self, rt: Runtime, channel: Channel) -> None:
        self.rt = rt
        self.channel = channel  # the messaging port: bot/channels.py picks each chat's messenger
        self.sent = 0
        self.errors = 0
        self._lock = asyncio.Lock()

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Deliver batch after batch until nothing is due. The next batch is claimed and prepared while
        the current one is being sent (preparing waits on the database, sending on Telegram), and its
        sends queue up as soon as the current batch's last send has started, so the rate limiter never
        runs dry between batches."""
        async with self._lock:
            total = 0
            gate = asyncio.Semaphore(self.rt.settings.delivery_concurrency)  # shared: batches follow on
            sending: list[asyncio.Task] = []
            try:
                batch = await self._claim_and_prepare()
                for round_ in range(max_rounds):
                    if batch is None:
                        break
                    claimed, jobs = batch
                    total += claimed
                    upcoming = asyncio.create_task(self._claim_and_prepare()) if round_ + 1 < max_rounds else None
                    started = asyncio.Event()
                    sending.append(asyncio.create_task(self._send_all(jobs, gate, started)))
                    waiter = asyncio.create_task(started.wait())
                    try:
                        await asyncio.wait([waiter, sending[-1]], return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        waiter.cancel()
                        batch = await upcoming if upcoming is not None else None
            finally:
                await asyncio.gather(*sending)
            return total

    async def _claim_and_prepare(self) -> tuple[int, list[_Job]] | None:
        rt = self.rt
        try:
            async with rt.db.session() as s:
                rows = await outbox.claim_due(
                    s, now=rt.clock.now(), worker=rt.worker_id, limit=rt.settings.delivery_batch_size,
                    lease=timedelta(seconds=rt.settings.delivery_lease_seconds))
        except Exception:  # database down: try again at the next tick, lose nothing
            log.exception("delivery: could not claim due rows")
            self.errors += 1
            return None
        return (len(rows), await self._prepare(rows)) if rows else None

    # --- prepare: kinds with a batch preparation (reminders) a batch at a time, the others row by row ----
    async def _prepare(self, rows: list[Outbox]) -> list[_Job]:
        now = self.rt.clock.now()
        batches: dict[str, list[int]] = {}
        for r in rows:
            kind = registry.KINDS.get(r.kind)
            if kind is not None and kind.prepare_batch is not None and not registry.too_late(r, now):
                batches.setdefault(r.kind, []).append(r.id)
        in_batch = {row_id for ids in batches.values() for row_id in ids}
        jobs: list[_Job] = []
        for name, ids in batches.items():
            try:
                jobs += await self._prepare_batch(name, ids)
            except Exception:  # one bad row must not hold up the others: take them one by one
                log.exception("delivery: batch of %d %s rows failed; preparing them one by one", len(ids), name)
                for row_id in ids:
                    try:
                        jobs += await self._prepare_batch(name, [row_id])
                    except Exception:
                        log.exception("delivery: %s row %s failed", name, row_id)
                        await self._retry(row_id, 1, "prepare failed")
        for row in rows:
            if row.id not in in_batch:
                jobs += await self._prepare_one(row)
        return jobs

    async def _prepare_batch(self, kind: str, ids: list[int]) -> list[_Job]:
        rt = self.rt
        async with rt.db.session() as s:
            rows = list(await s.scalars(select(Outbox).where(
                col(Outbox.id).in_(ids), Outbox.claimed_by == rt.worker_id, Outbox.state == outbox.CLAIMED)))
            prepare_batch = registry.KINDS[kind].prepare_batch
            assert prepare_batch is not None  # _prepare batches only the kinds that have one
            outcome = await prepare_batch(s, rt, rows)
            attempts = {r.id: r.attempts for r in rows}
            for state in {p.state for p in outcome.values() if not p.messages}:
                await outbox.finish_many(s, [rid for rid, p in outcome.items() if p.state == state and not p.messages],
                                         worker=rt.worker_id, state=state, now=rt.clock.now())
        return [_Job(rid, attempts[rid], p.messages) for rid, p in outcome.items() if p.messages]

    async def _prepare_one(self, row: Outbox) -> list[_Job]:
        rt = self.rt
        try:
            async with rt.db.session() as s:
                current = await s.get(Outbox, row.id)
                if current is None or current.state != outbox.CLAIMED or current.claimed_by != rt.worker_id:
                    return []
                prepared = await kinds.prepare(s, rt, current)
                if prepared.retry is None and not prepared.messages:
                    await outbox.finish(s, row.id, worker=rt.worker_id, state=prepared.state, now=rt.clock.now())
                    return []
            if prepared.retry is not None:  # what was prepared is committed; the row itself goes again later
                await self._retry(row.id, current.attempts, prepared.retry)
                return []
            return [_Job(row.id, current.attempts, prepared.messages)]
        except Exception as exc:
            log.exception("delivery: row %s (%s) failed to prepare", row.id, row.kind)
            await self._retry(row.id, row.attempts, type(exc).__name__)
            return []

    # --- send, and record outcomes with group commits -------------------------------------------------
    async def _send_all(self, jobs: list[_Job], gate: asyncio.Semaphore, started: asyncio.Event) -> None:
        """Send a batch's jobs through `gate`; `started` is set once the last of them holds it."""
        waiting = len(jobs)
        if not waiting:
            started.set()
        sent: list[int] = []
        wake = asyncio.Event()
        finished = False

        async def recorder() -> None:
            """Marks sent rows in groups: one UPDATE for whatever finished since the last commit, so a
            row is recorded within one commit of its send (the window a crash could repeat)."""
            while True:
                await wake.wait()
                wake.clear()
                while sent:
                    batch = sent[:]
                    sent.clear()
                    await self._finish_many(batch)
                if finished:
                    return

        still_ours = _still_claimed(self.rt)

        async def one(job: _Job) -> None:
            nonlocal waiting
            async with gate:
                waiting -= 1
                if not waiting:
                    started.set()
                if not await still_ours(job.row_id):
                    return  # withdrawn since it was prepared (/delete, a lost lease): not ours to send
                if await self._send(job):
                    sent.append(job.row_id)
                    wake.set()

        task = asyncio.create_task(recorder())
        try:
            await asyncio.gather(*(one(j) for j in jobs))
        finally:
            finished = True
            wake.set()
            await task

    async def _send(self, job: _Job) -> bool:
        """Send a prepared row's messages through the channel (on Telegram: the rate limiter's bulk lane);
        True when the channel took them all."""
        try:
            for i, (chat_id, replies) in enumerate(_by_chat(job.messages)):
                # the same key on every retry of this row: LINE delivers a retried push once (X-Line-Retry-Key)
                await self.channel.send(chat_id, replies, key=f"outbox:{job.row_id}:{i}")
                job.sent_some = True
            self.sent += 1
            return True
        except Held as exc:  # a paid channel's monthly cap: recorded, not retried (bot/line/quota.py)
            await self._finish(job.row_id, outbox.MISSED, f"held: {exc}")
        except RetryLater as exc:
            await self._later(job.row_id, self.rt.clock.now() + timedelta(seconds=exc.after),
                              f"429 retry_after={exc.after}")
        except Blocked:
            await self._unreachable(job.row_id)
            await self._failed(job)
        except Rejected as exc:
            log.warning("delivery: row %s rejected by the channel: %s", job.row_id, exc)
            await self._finish(job.row_id, outbox.FAILED, str(exc))
            await self._failed(job)
        except Unavailable as exc:  # timeouts and 5xx
            await self._retry(job.row_id, job.attempts, str(exc))
            if job.attempts >= MAX_ATTEMPTS:
                await self._failed(job)
        except Exception as exc:
            log.exception("delivery: row %s failed", job.row_id)
            await self._retry(job.row_id, job.attempts, type(exc).__name__)
            if job.attempts >= MAX_ATTEMPTS:
                await self._failed(job)
        return False

    async def _failed(self, job: _Job) -> None:
        """A row given up on: an alert that reached no one tells the patient to phone the clinic
        (bot/alerts.py: undelivered), so "the clinic has been informed" is never left standing untrue."""
        if job.sent_some:
            return
        try:
            async with self.rt.db.session() as s:
                row = await s.get(Outbox, job.row_id)
                if row is not None:
                    await alerts.undelivered(s, self.rt, row)
        except Exception:
            log.exception("delivery: could not plan the follow-up of row %s", job.row_id)

    async def _finish_many(self, ids: list[int]) -> None:
        try:
            async with self.rt.db.session() as s:
                await outbox.finish_many(s, ids, worker=self.rt.worker_id, state=outbox.SENT, now=self.rt.clock.now())
        except Exception:  # the lease expires and the rows are delivered again: better twice than never
            log.exception("delivery: could not record %d sent rows", len(ids))

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
                if row is not None and row.patient_id is not None and row.kind not in CLINIC_KINDS:
                    p = await s.get(Patient, row.patient_id)
                    if p is not None:
                        log.info("delivery: patient %s blocked the bot; reminders stop", p.id)
                        await coaching.patients.unreachable(s, self.rt, p)
        except Exception:
            log.exception("delivery: could not record 403 for row %s", row_id)
