"""LINE pushes cost money: counted per month, and held back by priority before the month's allowance runs out.

Replies (with the reply token of what the person just did) are free and never held. Pushes count against the
account's monthly allowance. The limit is the lower of the clinic's LINE_MONTHLY_CAP (`line_monthly_cap`, 0: none)
and the account's own allowance, read from LINE (GET /v2/bot/message/quota, at most every PLAN_EVERY; LINE's count,
which includes what staff send from LINE Official Account Manager, is taken when higher than ours):

  optional pushes (lessons, celebrations, the weekly explanation) stop at LINE_OPTIONAL_UNTIL_PERCENT of it;
  essential pushes (reminders, questions) stop where only LINE_SAFETY_RESERVE_PERCENT of it is left;
  safety pushes (red-flag answers, "phone the clinic", the staff's replies and notes) and the answers to what a
  patient just did (when the reply token was too old) are never held by it: the reserve is theirs.

A push is reserved before it is sent (one UPDATE ... WHERE pushes < limit: several instances never overshoot a
limit together) and given back if LINE did not take it. Each step is told once a month: the clinic (staff chat
and admins, on Telegram) when optional pushes stop and when essential ones stop, and every LINE patient on a
program when essential ones stop (one safety push each, from the reserve: daily messages pause until the 1st,
how to reach the clinic). When LINE itself refuses a push because the allowance is spent, the clinic is told
at once, and a safety message that could not go is named to the clinic with its patient, so someone phones them.
"""

from __future__ import annotations

import calendar
import hashlib
import itertools
import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.batching import Batched
from bot.coaching.messages import Held, Priority
from bot.runtime import Runtime
from bot.storage import line as stored
from bot.storage import outbox

log = logging.getLogger(__name__)

OPTIONAL_STOPPED, ESSENTIAL_STOPPED, ALLOWANCE_SPENT = 1, 2, 3  # the warning levels (line_usage.warned)


def month_of(rt: Runtime, now: datetime | None = None) -> str:
    """The month the counts belong to, in the clinic's time zone ("2026-11")."""
    return (now or rt.clock.now()).astimezone(rt.settings.tz).strftime("%Y-%m")


PLAN_EVERY = timedelta(minutes=30)  # how often the account's allowance and LINE's count are read


def effective_cap(rt: Runtime, plan: int | None) -> int | None:
    """The month's limit: the lower of the clinic's cap and the account's allowance (None: neither is set)."""
    caps = [c for c in (rt.settings.line_monthly_cap or None, plan) if c]
    return min(caps) if caps else None


def limits(rt: Runtime, plan: int | None = None) -> dict[Priority, int | None]:
    """The pushes a month after which each priority is held (None: never): from the lower of the clinic's cap
    and the account's allowance (`plan`, from LINE)."""
    cap = effective_cap(rt, plan)
    if cap is None:
        return {"optional": None, "essential": None, "safety": None}
    reserve = cap * rt.settings.line_safety_reserve_percent // 100
    return {"optional": min(cap * rt.settings.line_optional_until_percent // 100, cap - reserve),
            "essential": cap - reserve, "safety": None}


class Quota:
    """The counts of one clinic's LINE messages, shared by every instance through `line_usage`."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.plan: int | None = None  # the account's monthly allowance, as LINE last said (None: unlimited)
        self.plan_read_at: datetime | None = None
        # pushes and replies sent at the same moment (a fan-out) are counted with one statement (bot/batching.py)
        self._calls = itertools.count()
        self._pushes: Batched[None] = Batched(partial(self._count, "pushes"))
        self._replies: Batched[None] = Batched(partial(self._count, "replies"))

    def plan_due(self) -> bool:
        return self.plan_read_at is None or self.rt.clock.now() - self.plan_read_at >= PLAN_EVERY

    async def plan_read(self, allowance: int | None, used_by_line: int | None) -> None:
        self.plan, self.plan_read_at = allowance, self.rt.clock.now()
        if used_by_line:
            async with self.rt.db.session() as s:
                await stored.at_least(s, month_of(self.rt), used_by_line)

    async def reserve(self, priority: Priority, *, answering: bool = False) -> bool:
        """Before a push: count it if its priority's limit allows (True: reserved, `give_back` if not sent);
        False when no limit applies (counted by `pushed` once sent). Raises Held, counted as held, when the
        month's pushes reached the limit."""
        limit = None if answering else limits(self.rt, self.plan)[priority]
        if limit is None:
            return False
        month = month_of(self.rt)
        async with self.rt.db.session() as s:
            count = await stored.reserve(s, month, limit)
            if count is not None:
                await self._check(s, month, count)
                return True
            await stored.count(s, month, held=1)
            await self._warn(s, month, ESSENTIAL_STOPPED if priority == "essential" else OPTIONAL_STOPPED, limit)
        raise Held(f"{priority} pushes stop at {limit} a month (LINE_MONTHLY_CAP or the account's allowance)")

    async def give_back(self) -> None:
        """A reserved push LINE did not take."""
        async with self.rt.db.session() as s:
            await stored.count(s, month_of(self.rt), pushes=-1)

    async def pushed(self) -> None:
        """A push sent that was not reserved (no limit applied to it)."""
        await self._pushes(next(self._calls))

    async def _count(self, what: str, calls: list[int]) -> dict[int, None]:
        """Count the pushes (or replies) of `calls` with one statement; pushes also check the month's steps."""
        try:
            async with self.rt.db.session() as s:
                month = month_of(self.rt)
                row = await stored.count(s, month, **{what: len(calls)})
                if what == "pushes":
                    await self._check(s, month, row.pushes)
        except Exception:  # the database: uncounted (LINE's own count is read every PLAN_EVERY)
            log.exception("LINE: %d %s could not be counted", len(calls), what)
        return dict.fromkeys(calls)

    async def _check(self, s: AsyncSession, month: str, pushes: int) -> None:
        lim = limits(self.rt, self.plan)
        if lim["optional"] is not None and pushes >= lim["optional"]:
            await self._warn(s, month, OPTIONAL_STOPPED, pushes)
        if lim["essential"] is not None and pushes >= lim["essential"]:
            await self._warn(s, month, ESSENTIAL_STOPPED, pushes)

    async def replied(self) -> None:
        await self._replies(next(self._calls))

    async def spent(self, chat_id: int, priority: Priority, key: str) -> None:
        """LINE refused a push: the account's monthly allowance is spent. The clinic is told (once a month); a
        safety message that could not go is named to the clinic (once per message), so someone phones the
        patient."""
        async with self.rt.db.session() as s:
            month = month_of(self.rt)
            row = await stored.count(s, month, held=1)
            await self._warn(s, month, ALLOWANCE_SPENT, row.pushes)
            if priority == "safety":
                now = self.rt.clock.now()
                await outbox.schedule(s, kind="line_quota", due_at=now, now=now, telegram_user_id=chat_id,
                                      variant=f"{month}:s:{hashlib.sha256(key.encode()).hexdigest()[:16]}",
                                      payload={"level": "safety", "month": month})

    async def _warn(self, s: AsyncSession, month: str, level: int, used: int) -> None:
        """Tell the clinic (and at ESSENTIAL_STOPPED the LINE patients) once a month per level."""
        if not await stored.raise_warning(s, month, level):
            return
        log.warning("LINE: monthly pushes reached level %d in %s", level, month)
        now = self.rt.clock.now()
        await outbox.schedule(s, kind="line_quota", due_at=now, now=now, variant=f"{month}:{level}",
                              payload={"level": level, "month": month, "used": used,
                                       "cap": effective_cap(self.rt, self.plan)})
        if level == ESSENTIAL_STOPPED:
            for patient_id, chat_id in await stored.line_patients(s):
                await outbox.schedule(s, kind="line_paused", due_at=now, now=now, chat_id=chat_id,
                                      patient_id=patient_id, variant=month)


async def figures(s: AsyncSession, rt: Runtime) -> dict[str, Any] | None:
    """This month's LINE messages for /status, /health and the weekly summary: pushes (counted against the
    allowance), free replies, pushes held by the cap, the cap, the LINE patients on a program, and the projection
    of pushes per patient for the whole month at this month's pace. None when LINE is not configured."""
    if not rt.settings.line_enabled:
        return None
    now = rt.clock.now().astimezone(rt.settings.tz)
    usage = await stored.usage(s, month_of(rt))
    people = len(await stored.line_patients(s))
    days = calendar.monthrange(now.year, now.month)[1]
    elapsed = (now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 86400
    projected = usage.pushes / max(elapsed, 1.0) * days  # the month's pushes at this pace (a day at least)
    return {"month": usage.month, "pushes": usage.pushes, "replies": usage.replies, "held": usage.held,
            "cap": rt.settings.line_monthly_cap or None, "line_patients": people,
            "pushes_projected": round(projected),
            "pushes_per_patient_month": round(projected / people, 1) if people else None}
