"""Asking the outcome measures (rules/outcomes/*.toml) and storing every answer and every score.

A round (storage: `outcome_round`) is a list of steps, one question each, asked one at a time with buttons
(`om:<round>:<step>:<value>`): `<instrument>:<item>` for an item, `<instrument>:name:<k>` to name activity k
by typing (PSFS; the 「これで全部です」 button ends the naming) and `<instrument>:rate:<k>` to rate it. When the
last step of an instrument is answered its score is stored; when the round's last step is answered the
patient gets their results (after the baseline: a thank-you; later: baseline -> now for each measure).

Occasions: `baseline` at signup (bot/handlers/signup.py), then an `outcome_round` row every OUTCOME_EVERY days
(delivery/kinds.py), which asks `end` on the trial's last day, else `followup`.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OutcomeAnswer as Press
from bot.coaching.messages import Buttons, Reply
from bot.i18n import t
from bot.parsing import parse_name
from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage import outcomes as store
from bot.storage.models import OutcomeAnswer, OutcomeRound, OutcomeScore, Patient
from bot.timeplan import at_local, local_date
from rules.outcomes import Change, Instrument, asked_at, instrument, load_instruments

OUTCOME_EVERY = timedelta(days=14)
AWAITING = "outcome"  # patient.awaiting while an activity is to be typed
ACTIVITY_MAX = 30
ASK_AFTER_MORNING = timedelta(hours=1)  # a round comes an hour after the morning question


def steps_for(occasion: str, activities: list[str]) -> list[str]:
    """The questions of a round at this occasion, in order (activities: those named before, for PSFS)."""
    steps: list[str] = []
    for ins in asked_at(occasion):
        if not ins.activities:
            steps += [f"{ins.id}:{item.id}" for item in ins.items]
        elif activities:
            steps += [f"{ins.id}:rate:{k}" for k in range(len(activities))]
        elif occasion == "baseline":  # named at the first round; none named then: nothing to rate again later
            for k in range(ins.activities):
                steps += [f"{ins.id}:name:{k}", f"{ins.id}:rate:{k}"]
    return steps


def _parts(step: str) -> tuple[Instrument, str, int]:
    """(instrument, kind: item id / "name" / "rate", activity number)"""
    ins_id, rest = step.split(":", 1)
    ins = instrument(ins_id)
    if ins is None:
        raise LookupError(f"instrument {ins_id} is no longer installed")
    kind, _, k = rest.partition(":")
    return ins, kind, int(k or 0)


def _option_rows(r: OutcomeRound, item_options: list[tuple[str, int]]) -> Buttons:
    """Numbers in rows of up to 6 (0-5, 6-10); worded answers one per row."""
    buttons = [(label, Press(r.id, r.step, value).data) for label, value in item_options]
    if all(label.isdigit() for label, _ in item_options):
        return [buttons[i:i + 6] for i in range(0, len(buttons), 6)]
    return [[b] for b in buttons]


def question(p: Patient, r: OutcomeRound) -> Reply:
    """The question of the round's current step."""
    ins, kind, k = _parts(r.steps[r.step])
    progress = t("outcome.progress", n=r.step + 1)
    if kind == "name":
        p.awaiting = AWAITING
        text = ins.activity_question if k == 0 else t("outcome.name_more", n=k + 1)
        label = t("button.outcome_none") if k == 0 else t("button.outcome_no_more")
        return Reply(f"{progress}\n{text}", [[(label, Press(r.id, r.step, None).data)]])
    if kind == "rate":
        item, activity = ins.items[0], r.activities[k]
    else:
        item, activity = ins.item(kind), ""
    return Reply(f"{progress}\n{item.question(activity)}",
                 _option_rows(r, [(o.label, o.value) for o in item.options]))


async def start_round(s: AsyncSession, rt: Runtime, p: Patient, occasion: str) -> list[Reply]:
    """A new round (an unfinished earlier one is closed): its introduction and first question."""
    await store.close_open(s, p.id)
    activities = [] if occasion == "baseline" else await store.named_activities(s, p.id)
    steps = steps_for(occasion, activities)
    if not steps:
        return []
    r = OutcomeRound(patient_id=p.id, occasion=occasion, started_at=rt.clock.now(), steps=steps,
                     activities=activities)
    s.add(r)
    await s.flush()
    return [Reply(t(f"outcome.intro.{occasion}", nickname=p.nickname)), question(p, r)]


async def begin(s: AsyncSession, rt: Runtime, p: Patient) -> list[Reply]:
    """At signup: the baseline round, and the next round planned (nothing when outcome measures are off)."""
    if not rt.settings.outcomes_enabled:
        return []
    await schedule_next(s, rt, p, local_date(rt.clock.now(), p.timezone))
    return await start_round(s, rt, p, "baseline")


def next_day(p: Patient, after: date) -> date:
    """OUTCOME_EVERY days on; during the trial, its last day at the latest (the `end` round)."""
    day = after + OUTCOME_EVERY
    if p.status == "trial" and after < p.trial_ends_on <= day:
        return p.trial_ends_on
    return day


async def schedule_next(s: AsyncSession, rt: Runtime, p: Patient, after: date) -> None:
    day = next_day(p, after)
    await outbox.schedule(s, kind="outcome_round", now=rt.clock.now(), chat_id=p.chat_id, patient_id=p.id,
                          local_date=day, due_at=at_local(day, p.morning_time, p.timezone) + ASK_AFTER_MORNING)


async def occasion_of(s: AsyncSession, p: Patient, day: date) -> str:
    """A due round asks `end` on the trial's last day, `baseline` when the patient has none (held at signup)."""
    if not await store.has_baseline(s, p.id):
        return "baseline"
    return "end" if p.status == "trial" and day >= p.trial_ends_on else "followup"


async def answer(s: AsyncSession, rt: Runtime, p: Patient, press: Press) -> list[Reply] | None:
    """A button of a round; None when it is not this patient's open round at this step (stale or forged)."""
    r = await store.get_round(s, press.round_id)
    if r is None or r.patient_id != p.id or r.finished_at is not None or r.closed or r.step != press.step:
        return None
    ins, kind, k = _parts(r.steps[r.step])
    if kind == "name":
        if press.value is not None:
            return None
        # no (more) activities: the instrument's remaining steps are skipped (this one stays, answered, so the next
        # question keeps counting on: 「（3問目）」, not a second 「（2問目）」)
        r.steps = r.steps[:r.step + 1] + [x for x in r.steps[r.step + 1:] if not x.startswith(f"{ins.id}:")]
        p.awaiting = None
        return await _advance(s, rt, p, r, ins)
    item = ins.items[0] if kind == "rate" else ins.item(kind)
    if press.value is None or press.value not in {o.value for o in item.options}:
        return None
    s.add(OutcomeAnswer(round_id=r.id, patient_id=p.id, instrument=ins.id, item=item.id, value=press.value,
                        activity=r.activities[k] if kind == "rate" else None, answered_at=rt.clock.now()))
    await s.flush()
    return await _advance(s, rt, p, r, ins)


async def on_text(s: AsyncSession, rt: Runtime, p: Patient, text: str) -> list[Reply]:
    """A typed activity (PSFS); anything unusable gets the question again, kindly."""
    r = await store.open_round(s, p.id)
    if r is None or r.step >= len(r.steps) or _parts(r.steps[r.step])[1] != "name":
        p.awaiting = None
        return [Reply(t("outcome.use_buttons"))]
    activity = parse_name(text, ACTIVITY_MAX)
    if activity is None:
        q = question(p, r)
        return [Reply(f"{t('outcome.activity_retry', max=ACTIVITY_MAX)}\n\n{q.text}", q.buttons)]
    r.activities = [*r.activities, activity]
    p.awaiting = None
    ins = _parts(r.steps[r.step])[0]
    return await _advance(s, rt, p, r, ins)


async def _advance(s: AsyncSession, rt: Runtime, p: Patient, r: OutcomeRound, ins: Instrument) -> list[Reply]:
    """To the next step; an instrument all answered is scored; at the end, the results."""
    r.step += 1
    if r.step >= len(r.steps) or not r.steps[r.step].startswith(f"{ins.id}:"):
        await _score(s, rt, r, ins)
    if r.step < len(r.steps):
        return [question(p, r)]
    r.finished_at = rt.clock.now()
    p.awaiting = None
    return [await results(s, p, r)]


async def _score(s: AsyncSession, rt: Runtime, r: OutcomeRound, ins: Instrument) -> None:
    value = ins.score(await store.round_answers(s, r.id, ins.id))
    if value is not None:
        s.add(OutcomeScore(round_id=r.id, patient_id=r.patient_id, instrument=ins.id, version=ins.version,
                           occasion=r.occasion, score=value, scored_at=rt.clock.now()))
        await s.flush()


def score_text(ins: Instrument, value: float | None) -> str:
    """A score as people read it: 4, 5.3, or the answer's words (PGIC)."""
    if value is None:
        return t("report.no_data")
    if ins.mcid.responders:
        return ins.items[0].label_of(int(value))
    return f"{value:g}"


def change_text(ins: Instrument, change: Change) -> str:
    """「6 → 4（−2、意味のある改善）」 for clinicians and patients alike."""
    points = f"{change.points:+g}".replace("-", "−")
    verdict = t("outcome.mcid.important") if change.important else (
        t("outcome.mcid.improved") if change.improved else "")
    return t("outcome.change", baseline=f"{change.baseline:g}", now=f"{change.now:g}", points=points,
             verdict=verdict)


async def results(s: AsyncSession, p: Patient, r: OutcomeRound) -> Reply:
    """The patient's results at the end of a round: after the baseline a thank-you; later, baseline -> now."""
    if r.occasion == "baseline":
        return Reply(t("outcome.done.baseline", nickname=p.nickname))
    rows = (await store.scores(s, [p.id]))[p.id]
    lines = []
    for ins in load_instruments():
        pair = store.baseline_and_newest(rows, ins.id)
        if pair is None or pair[1] is None or not any(x.at >= r.started_at for x in rows if x.instrument == ins.id):
            continue  # not asked in this round
        base, now = pair
        change = ins.change(base, now)
        shown = change_text(ins, change) if change is not None and not ins.mcid.responders else score_text(ins, now)
        lines.append(t("outcome.result_line", title=ins.title, value=shown))
    return Reply("\n".join([t("outcome.done.later", nickname=p.nickname), *lines, t("outcome.done.footer")]))
