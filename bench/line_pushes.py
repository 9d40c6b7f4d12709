"""LINE pushes per patient per month: patients on LINE through the real bot for 30 days (tests/harness.py's Coach
with the LINE stand-in; the clock travels, nothing sleeps).

    python bench/line_pushes.py                  # OUTCOMES_ENABLED on (the default) and off; 30 days
    python bench/line_pushes.py --days 7 --outcomes on

Each run has two patients on the knee program, who follow the account, enrol (/trial, consent, the signup
questions; a 14-day trial, then 「続ける」) and then, every day, read what the bot sent and tap as a typical
patient does (tests/helpers.py's `day`, driven by the buttons on the last message: 今から始める, the ratings,
全部終わった, the next-morning rating, the outcome questions with 「特にありません」 for the activities):
* adherent: answers everything;
* half: answers nothing at all every other day (the reminder, its repeat, the questions, the next morning), and
  otherwise like the adherent one; it does answer 「続ける」 at the trial's end whichever day it comes.
The clock moves an hour at a time and the delivery runs at each step, as the scheduler would.

Counted per patient: push requests (each one message of the month's allowance, bot/line/quota.py), replies
(free: with the reply token of the patient's own tap), by the outbox row kind the messages came from (`reply`:
a handler's answer; `direct`: sent without an outbox row), and LINE's own count (`pushes_used`)."""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_url
from bot.storage import line as stored
from bot.storage.models import Outbox
from line_standin import LineStandin, new_user_id
from telegram_standin import StandIn
from tests.harness import LINE_SECRET, LINE_TOKEN, Coach
from tests.helpers import START, enrol

ADMIN = 9001  # the clinic side, on Telegram
PREFERRED = ("今から始める", "全部終わった", "1つ目が終わった", "続ける", "特にありません", "これで全部です",
             "どれもない", "変わらない")
RATING = ("3", "2", "1", "0")


def choose(labels: list[str]) -> str | None:
    """The button a typical patient taps on the last message (None: nothing to answer)."""
    for label in PREFERRED:
        if label in labels:
            return label
    for label in RATING:
        if label in labels:
            return label
    return None


class Counting:
    """Counts what the LINE adapter sends, per chat, by the kind of the outbox row behind it."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self.counts: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
        self.unanswered: Counter[str] = Counter()
        self._kind: contextvars.ContextVar[tuple[int, str]] = contextvars.ContextVar("kind")
        channel = coach.app.bot_data["channels"].adapters["line"]
        send, push, reply = channel.send, channel._push, channel._reply

        async def counted_send(chat_id: int, replies: Any, *, key: str | None = None, answering: Any = None) -> None:
            token = self._kind.set((chat_id, await self.kind_of(key)))
            try:
                await send(chat_id, replies, key=key, answering=answering)
            finally:
                self._kind.reset(token)

        async def counted_push(*a: Any, **k: Any) -> None:
            await push(*a, **k)
            chat, kind = self._kind.get()
            self.counts[chat]["push", kind] += 1

        async def counted_reply(*a: Any, **k: Any) -> bool:
            ok = await reply(*a, **k)
            if ok:
                chat, kind = self._kind.get()
                self.counts[chat]["reply", kind] += 1
            return bool(ok)

        channel.send, channel._push, channel._reply = counted_send, counted_push, counted_reply

    async def kind_of(self, key: str | None) -> str:
        if key is None or not key.startswith("outbox:"):
            return "direct"
        async with self.coach.rt.db.session() as s:
            row = await s.get(Outbox, int(key.split(":")[1]))
        return row.kind if row is not None else "?"


async def answer(coach: Coach, user: str, limit: int = 30) -> None:
    """Tap through whatever the bot asks now, as a typical patient; the trial's end question, whose quick replies
    the same minute's reminder takes away on LINE, is answered by typing 「続ける」 (its text says so)."""
    if any("「続ける」「終了」と送って" in (m.text or "") for m in coach.line.messages(user)[-3:]) \
            and "続ける" not in coach.last_buttons(user):
        await coach.text(user, "続ける")
    for _ in range(limit):
        labels = coach.last_buttons(user)
        label = choose(labels)
        if label is None:
            return
        if not await coach.press(user, label):
            return  # nothing came back: the question was answered already


async def simulate(days: int, outcomes: bool) -> dict[str, Any]:
    url = database_url("sqlite", f"line_pushes_{'on' if outcomes else 'off'}")
    async with StandIn(record_bodies=False) as telegram, \
            LineStandin(LINE_SECRET, LINE_TOKEN, allow_http_media=True) as line:
        coach = await Coach(telegram, url, START, line=line, migrate=True, admin_telegram_ids=[ADMIN],
                            outcomes_enabled=outcomes,
                            clinic_name="いたみクリニック", clinic_phone="03-0000-0000",
                            clinic_hours="9:00-18:00").start()
        try:
            counting = Counting(coach)
            people = {"adherent": new_user_id(), "half": new_user_id()}
            for user in people.values():
                await coach.follow(user)
                await enrol(coach, user)
                await answer(coach, user)  # the baseline outcome questions, when on
            async with coach.rt.db.session() as s:
                number = {name: await stored.number_of(s, user, coach.clock.now()) for name, user in people.items()}
            used_at_signup = line.pushes_used
            for hour in range(days * 24):
                await coach.travel(hours=1)
                day = hour // 24
                for name, user in people.items():
                    if name == "half" and day % 2 == 1:
                        if "続ける" in coach.last_buttons(user):
                            await coach.press(user, "続ける")
                        continue
                    await answer(coach, user)
            assert coach.clock.now() - START == timedelta(days=days)
            per_month = 30 / days
            return dict(outcomes=outcomes, days=days, per_month=per_month, used=line.pushes_used,
                        used_at_signup=used_at_signup, stats=dict(line.stats),
                        people={name: counting.counts[number[name]] for name in people})
        finally:
            await coach.stop()


def report(r: dict[str, Any]) -> None:
    scale = r["per_month"]
    print(f"OUTCOMES_ENABLED={'true' if r['outcomes'] else 'false'}, {r['days']} days "
          f"(figures per 30 days{' scaled' if r['days'] != 30 else ''}); LINE counted {r['used']} pushes "
          f"({r['used_at_signup']} during signup), {r['stats']['replies']} replies")
    for name, counts in r["people"].items():
        pushes = sum(v for (how, _), v in counts.items() if how == "push")
        replies = sum(v for (how, _), v in counts.items() if how == "reply")
        kinds = ", ".join(f"{kind} {v}" for (how, kind), v in sorted(counts.items(), key=lambda kv: -kv[1])
                          if how == "push")
        free = ", ".join(f"{kind} {v}" for (how, kind), v in sorted(counts.items(), key=lambda kv: -kv[1])
                         if how == "reply")
        print(f"  {name:8} pushes {pushes * scale:.0f} a month, replies {replies * scale:.0f} (free)")
        print(f"           pushes by kind: {kinds}")
        print(f"           replies by kind: {free}")


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--outcomes", choices=("on", "off", "both"), default="both")
    a = p.parse_args()
    for outcomes in {"on": [True], "off": [False], "both": [True, False]}[a.outcomes]:
        print(f"# load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        start = time.perf_counter()
        report(await simulate(a.days, outcomes))
        print(f"  ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
