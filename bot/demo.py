"""`python -m bot demo`: a realistic clinic in chat mode within a minute (issue 10, "Done when").

Thirty patients of the try-out clinician (田中) over the last six weeks, each on a course of its own kind
(improving, steady, a flare, falling adherence, silent, a red flag, severe pain that stayed, stuck at the minimum,
a worse trend), built straight into the try-out database: every session's ratings are made up from the course,
but every decision is the real rules' (`rules.decide` at the next-morning answer, or during exercise when pain
is severe), levels change as the rules say, and the outcome measures are scored with the instruments' own
scoring. The try-out patient (はなこ) is one of them, with their weekly report waiting. Then chat mode opens as
the clinician and shows the weekly summary, the card of the patient who needs attention first, and the
patient's weekly report; after that it is the ordinary chat mode (README, "Chat mode").
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.consent import CONSENT_VERSION
from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import (
    Decision,
    ExerciseSession,
    OutcomeRound,
    OutcomeScore,
    Patient,
    Prompt,
    RedFlagReport,
)
from bot.timeplan import at_local
from rules import ELEMENT_ORDER, Action, Case, Element, SessionRecord, Stage, decide, load_program
from rules import Decision as RuleDecision
from rules.outcomes import instrument

DAYS = 42
COURSES = ("improving", "steady", "flare", "dropping", "improving", "silent", "red_flag", "steady", "severe",
           "minimum", "worsening", "improving")
NAMES = ("さくら", "たろう", "よしこ", "けんじ", "みどり", "ひろし", "ゆうこ", "まさお", "あやこ", "しげる", "のりこ",
         "かずお", "ともこ", "ただし", "えみこ", "いさむ", "ふみこ", "まもる", "きよこ", "おさむ", "ちえこ", "すすむ",
         "ひさこ", "やすお", "まちこ", "とおる", "せつこ", "のぼる", "はるみ")
CONDITIONS = ("low_back", "knee", "both")
TZ = "Asia/Tokyo"


@dataclass
class Course:
    kind: str
    adherence: float  # the chance of exercising on a day
    usual: int

    def ratings(self, rnd: random.Random, day: int, left: int) -> tuple[int, int, int, int]:
        """(before, during, after, next morning) on day `day` of the course, `left` days before today."""
        base = self.usual - (2 if self.kind == "improving" and day > 14 else 0) - (1 if day > 28 else 0)
        base = max(base, 1)
        during = max(base - 1 + rnd.choice((-1, 0, 0, 1)), 0)
        if self.kind == "flare" and 7 < left <= 14:
            during = 5 + rnd.choice((0, 1))
        if self.kind == "minimum":
            during = 4 + rnd.choice((0, 1))
        if self.kind == "severe" and left == 3:
            during = 8
        after = max(min(during, base) - rnd.choice((0, 1, 1)), 0)
        morning = max(base - 1, 0) + (self.kind == "flare" and rnd.random() < 0.3)
        if self.kind == "worsening" and left <= 14:
            morning = base + 1 + (left <= 7)
        return min(base, 10), min(during, 10), min(after, 10), min(morning, 10)

    def exercises(self, rnd: random.Random, left: int) -> bool:
        if self.kind == "silent" and left <= 5:
            return False
        if self.kind == "dropping" and left <= 7:
            return rnd.random() < 0.2
        return rnd.random() < self.adherence


async def build(s: AsyncSession, rt: Runtime, clinician_id: int, patient_user: int, today: date) -> int:
    """Thirty patients of this clinician over the six weeks before `today`; the try-out patient (`patient_user`)
    is the first. Returns the try-out patient's id."""
    rnd = random.Random(20261125)
    first_id = 0
    for n in range(30):
        kind = "improving" if n == 0 else COURSES[n % len(COURSES)]
        course = Course(kind, rnd.choice((0.7, 0.8, 0.9)) if kind != "steady" else 0.65, rnd.choice((3, 4, 5)))
        enrolled = today - timedelta(days=DAYS - 1 - (0 if n == 0 else rnd.randrange(0, 28)))
        if n == 0:
            enrolled = today - timedelta(days=13)
        p = await _patient(s, rt, n, patient_user, enrolled, today, course, clinician_id)
        first_id = first_id or p.id
        await _course(s, rt, p, course, rnd, enrolled, today)
        await _outcomes(s, p, course, rnd, enrolled, today)
    return first_id


async def _patient(s: AsyncSession, rt: Runtime, n: int, patient_user: int, enrolled: date, today: date,
                   course: Course, clinician_id: int) -> Patient:
    at = at_local(enrolled, "10:00", TZ)
    ends = enrolled + timedelta(days=rt.settings.trial_days)
    p = Patient(telegram_user_id=patient_user if n == 0 else 20_000 + n, chat_id=patient_user if n == 0 else 20_000 + n,
                nickname="はなこ" if n == 0 else NAMES[n - 1], condition="knee" if n == 0 else CONDITIONS[n % 3],
                usual_pain=course.usual, exercise_time="09:00", morning_time="07:00", timezone=TZ,
                status="trial" if ends >= today else "active", consent_at=at, consent_version=CONSENT_VERSION,
                enrolled_at=at, trial_ends_on=ends, raise_history=[], clinician_id=clinician_id,
                contact=None if n % 3 else f"090-0000-{1000 + n}",
                # celebrated before today; the try-out patient's first week is celebrated with the weekly report
                milestones=["first_raise", "ten_sessions"] if n == 0 else ["first_week", "first_raise", "ten_sessions"])
    s.add(p)
    await s.flush()
    return p


async def _course(s: AsyncSession, rt: Runtime, p: Patient, course: Course, rnd: random.Random, enrolled: date,
                  today: date) -> None:
    """Day by day: a session when the patient exercised, and the rules' decision on it."""
    program = load_program(p.condition)
    history: list[SessionRecord] = []
    day = enrolled
    while day < today and not p.paused:
        left = (today - day).days
        planned = at_local(day, p.exercise_time, TZ)
        if not course.exercises(rnd, left):
            s.add(ExerciseSession(patient_id=p.id, local_date=day, planned_at=planned, status="missed",
                                  levels=_levels(p)))
            s.add(Prompt(patient_id=p.id, kind="reminder", asked_at=planned))
            day += timedelta(days=1)
            continue
        before, during, after, morning = course.ratings(rnd, (day - enrolled).days, left)
        if course.kind == "red_flag" and left == 4:
            await _red_flag(s, p, day)
            break
        record = SessionRecord(day, before, during, after, morning)
        stage = Stage.DURING if during >= rt.thresholds.severe else Stage.NEXT_MORNING
        if stage is Stage.DURING:
            record = SessionRecord(day, before, during)
        case = Case(today=day, stage=stage, levels={e: getattr(p, str(e)) for e in ELEMENT_ORDER},
                    max_levels=program.max_levels, raise_history=tuple(Element(e) for e in p.raise_history),
                    sessions=(*history[-13:], record), usual_pain=p.usual_pain)
        d = decide(case)
        when = at_local(day + timedelta(days=1), p.morning_time, TZ) if stage is Stage.NEXT_MORNING else planned
        _record(s, p, stage, d, when)
        change = d.action if d.action in (Action.PROGRESS, Action.STEP_BACK) else None
        for e in ELEMENT_ORDER:
            setattr(p, str(e), d.levels[e])
        p.raise_history = [str(e) for e in d.raise_history]
        status = "stopped" if d.action is Action.STOP else "done"
        s.add(ExerciseSession(patient_id=p.id, local_date=day, planned_at=planned, status=status,
                              started_at=planned, before=before, during=during,
                              after=None if status == "stopped" else after,
                              next_morning=morning if stage is Stage.NEXT_MORNING else None, levels=_levels(p),
                              level_change=str(change) if change else None))
        s.add(Prompt(patient_id=p.id, kind="next_morning", asked_at=when, answered_at=when, answer=str(morning)))
        history.append(SessionRecord(day, before, during, after, morning, level_change=change))
        if d.pause:
            p.paused = True
        if course.kind == "severe" and status == "stopped":  # still 8 the next morning: the rules pause them
            follow = Case(today=day, stage=Stage.NEXT_MORNING, levels={e: getattr(p, str(e)) for e in ELEMENT_ORDER},
                          max_levels=program.max_levels, sessions=(*history[-13:-1], SessionRecord(
                              day, before, during, None, 8)), usual_pain=p.usual_pain)
            d = decide(follow)
            _record(s, p, Stage.NEXT_MORNING, d, at_local(day + timedelta(days=1), p.morning_time, TZ))
            p.paused = p.paused or d.pause
        day += timedelta(days=1)
    await s.flush()


async def _red_flag(s: AsyncSession, p: Patient, day: date) -> None:
    """A check-in with a clear swelling: reported, the rules stop, the program paused, the clinician alerted (not
    yet acknowledged)."""
    at = at_local(day, "08:10", TZ)
    s.add(RedFlagReport(patient_id=p.id, telegram_user_id=p.telegram_user_id, source="checkin",
                        flags=["swelling"], created_at=at))
    program = load_program(p.condition)
    _record(s, p, Stage.CHECKIN, decide(Case(today=day, stage=Stage.CHECKIN, flags=frozenset({"swelling"}),
                                             levels={e: getattr(p, str(e)) for e in ELEMENT_ORDER},
                                             max_levels=program.max_levels)), at)
    await outbox.schedule(s, kind="alert", due_at=at, now=at, patient_id=p.id,
                          variant=f"red_flag@{int(at.timestamp())}",
                          payload={"event": "red_flag", "urgent": False, "nickname": p.nickname, "patient_id": p.id})
    p.paused = True


async def _outcomes(s: AsyncSession, p: Patient, course: Course, rnd: random.Random, enrolled: date,
                    today: date) -> None:
    """The baseline at signup and a round every 14 days, scored by the instruments themselves."""
    pain0, psfs0, days0 = course.usual + rnd.choice((0, 1)), rnd.choice((2, 3, 4)), rnd.choice((2, 3, 4))
    k = 0
    while enrolled + timedelta(days=14 * k) < today:
        occasion = "baseline" if k == 0 else ("end" if k == 1 else "followup")
        gain = {"improving": 2, "steady": 1, "flare": 0, "worsening": -1}.get(course.kind, 1) * k
        when = at_local(enrolled + timedelta(days=14 * k), "10:30", TZ)
        r = OutcomeRound(patient_id=p.id, occasion=occasion, started_at=when, finished_at=when, steps=[],
                         activities=["階段をのぼる", "長く歩く"])
        s.add(r)
        await s.flush()
        scores = {"pain_week": max(pain0 - gain, 0), "psfs": min(psfs0 + gain * 1.2, 10),
                  "limited_days": max(days0 - gain, 0)}
        if occasion == "end":
            scores["pgic"] = 2 if course.kind == "improving" else (3 if gain > 0 else 4)
        for ins_id, value in scores.items():
            ins = instrument(ins_id)
            if ins is not None:
                s.add(OutcomeScore(round_id=r.id, patient_id=p.id, instrument=ins_id, version=ins.version,
                                   occasion=occasion, score=round(float(value), 1), scored_at=when))
        k += 1
    await s.flush()


def _record(s: AsyncSession, p: Patient, stage: Stage, d: RuleDecision, when: datetime) -> None:
    """The rules' decision as the bot records it (a `decision` row); the levels are applied by the caller."""
    s.add(Decision(patient_id=p.id, stage=str(stage), action=str(d.action),
                   element=str(d.element) if d.element else None, reasons=list(d.reasons), message=d.message,
                   urgent=d.urgent, levels_before=_levels(p), levels_after={str(e): v for e, v in d.levels.items()},
                   created_at=when))


def _levels(p: Patient) -> dict[str, int]:
    return {str(e): getattr(p, str(e)) for e in ELEMENT_ORDER}


def demo_start(tz: str = TZ) -> datetime:
    """Today at 12:00 in the clinic's time zone: the demo's frozen clock."""
    today = datetime.now(ZoneInfo(tz)).date()
    return datetime.combine(today, time(12, 0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


DEMO_DATABASE = "sqlite+aiosqlite:///clinic-demo.db"
DEMO_FILES = "demo-files"
PATIENT_CHARTS = 3  # charts under the demo's summary (a real summary: SUMMARY_MAX_PATIENT_CHARTS)


async def run_demo(database_url: str = DEMO_DATABASE, files: str | Path = DEMO_FILES,
                   lines: list[str] | None = None, out: TextIO | None = None, start: datetime | None = None) -> int:
    """Build the clinic afresh, then chat mode as the clinician: the summary, the first patient's card, the
    try-out patient's weekly report; then the keyboard (or `lines`). `start`: the frozen clock (default: today
    12:00 in the clinic)."""
    from bot.chat import ROLES, ChatSession, run_chat
    from bot.coaching.schedule import schedule_reminder
    from bot.reports import build as reports
    from bot.reports.summary import Period
    from bot.storage import clinicians

    start = start or demo_start()
    today = start.astimezone(ZoneInfo(TZ)).date()
    period = Period.week_of(today - timedelta(days=7))  # the last whole week

    async def prepare(chat: ChatSession) -> list[str]:
        rt = chat.rt
        async with rt.db.session() as s:
            c = await clinicians.by_user(s, ROLES["clinician"])
            assert c is not None  # set up by chat mode before this runs
            pid = await build(s, rt, c.id, ROLES["patient"], today)
            p = await s.get(Patient, pid)
            assert p is not None
            await outbox.schedule(s, kind="weekly_report", due_at=rt.clock.now(), now=rt.clock.now(), chat_id=p.chat_id,
                                  patient_id=p.id, local_date=today)
            await schedule_reminder(s, rt, p)
        async with rt.db.session() as s:
            found = await reports.summaries(s, rt, c.id, period)
        first = found[0].patient.id if found else pid
        return [":as clinician", "/summary 先週", f"/patient {first}", ":as patient"]

    out = out or sys.stdout
    print(f"Building a clinic of 30 patients over {DAYS} days (the real rules decide) ...", file=out)
    return await run_chat(database_url, lines, out, reset=True, files=files, start=start, prepare=prepare,
                          summary_max_patient_charts=PATIENT_CHARTS)
