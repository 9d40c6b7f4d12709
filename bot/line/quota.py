"""LINE pushes cost money: counted per month, and held back by priority near the clinic's monthly cap.

Replies (with the reply token of what the person just did) are free and never held. Pushes count against the
account's monthly allowance; with LINE_MONTHLY_PUSH_CAP set (`line_monthly_cap`):

  optional pushes (lessons, celebrations, the weekly explanation) stop at LINE_OPTIONAL_UNTIL_PERCENT of the cap;
  essential pushes (reminders, questions) stop where only LINE_SAFETY_RESERVE_PERCENT of the cap is left;
  safety pushes (red-flag answers, "phone the clinic") are never held by the cap: the reserve is theirs.

Each step is told once a month: the clinic (staff chat and admins, on Telegram) when optional pushes stop and
when essential ones stop, and every LINE patient on a program when essential ones stop (one safety push each,
from the reserve: daily messages pause until the 1st, how to reach the clinic). When LINE itself refuses a push
because the account's allowance is spent, the clinic is told at once, and a safety message that could not go
is named to the clinic with the patient, so someone phones them.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.messages import Held, Priority
from bot.runtime import Runtime
from bot.storage import line as stored
from bot.storage import outbox
from bot.storage.models import LineUsage

log = logging.getLogger(__name__)

OPTIONAL_STOPPED, ESSENTIAL_STOPPED, ALLOWANCE_SPENT = 1, 2, 3  # the warning levels (line_usage.warned)


def month_of(rt: Runtime, now: datetime | None = None) -> str:
    """The month the counts belong to, in the clinic's time zone ("2026-11")."""
    return (now or rt.clock.now()).astimezone(rt.settings.tz).strftime("%Y-%m")


def limits(rt: Runtime) -> dict[Priority, int | None]:
    """The pushes a month after which each priority is held (None: never, by our cap)."""
    cap = rt.settings.line_monthly_cap
    if not cap:
        return {"optional": None, "essential": None, "safety": None}
    reserve = cap * rt.settings.line_safety_reserve_percent // 100
    return {"optional": min(cap * rt.settings.line_optional_until_percent // 100, cap - reserve),
            "essential": cap - reserve, "safety": None}


class Quota:
    """The counts of one clinic's LINE messages, shared by every instance through `line_usage`."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def before_push(self, priority: Priority) -> None:
        """Raise Held if the month's pushes reached this priority's limit (and count it as held)."""
        limit = limits(self.rt)[priority]
        if limit is None:
            return
        month = month_of(self.rt)
        async with self.rt.db.session() as s:
            used = (await stored.usage(s, month)).pushes
            if used < limit:
                return
            await stored.count(s, month, held=1)
            await self._warn(s, month, ESSENTIAL_STOPPED if priority == "essential" else OPTIONAL_STOPPED, used)
        raise Held(f"{priority} pushes stop at {limit} a month (LINE_MONTHLY_PUSH_CAP)")

    async def pushed(self) -> LineUsage:
        async with self.rt.db.session() as s:
            month = month_of(self.rt)
            row = await stored.count(s, month, pushes=1)
            lim = limits(self.rt)
            if lim["optional"] is not None and row.pushes >= lim["optional"]:
                await self._warn(s, month, OPTIONAL_STOPPED, row.pushes)
            if lim["essential"] is not None and row.pushes >= lim["essential"]:
                await self._warn(s, month, ESSENTIAL_STOPPED, row.pushes)
            return row

    async def replied(self) -> None:
        async with self.rt.db.session() as s:
            await stored.count(s, month_of(self.rt), replies=1)

    async def spent(self, chat_id: int, priority: Priority) -> None:
        """LINE refused a push: the account's monthly allowance is spent. The clinic is told (once a month); a
        safety message that could not go is named to the clinic, so someone phones the patient."""
        async with self.rt.db.session() as s:
            month = month_of(self.rt)
            row = await stored.count(s, month, held=1)
            await self._warn(s, month, ALLOWANCE_SPENT, row.pushes)
            if priority == "safety":
                now = self.rt.clock.now()
                await outbox.schedule(s, kind="line_quota", due_at=now, now=now, telegram_user_id=chat_id,
                                      variant=f"{month}:safety:{int(now.timestamp())}",
                                      payload={"level": "safety", "month": month, "used": 0})

    async def _warn(self, s: AsyncSession, month: str, level: int, used: int) -> None:
        """Tell the clinic (and at ESSENTIAL_STOPPED the LINE patients) once a month per level."""
        if not await stored.raise_warning(s, month, level):
            return
        log.warning("LINE: monthly pushes reached level %d in %s", level, month)
        now = self.rt.clock.now()
        await outbox.schedule(s, kind="line_quota", due_at=now, now=now, variant=f"{month}:{level}",
                              payload={"level": level, "month": month, "used": used})
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
