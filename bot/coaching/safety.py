"""The safety loop around the red-flag rules (issue 8): the clinic's contact in every piece of advice, and
whether the patient may be told that the clinic has been informed.

- `contact(rt)`: the parameters every red-flag text takes: `{contact}` (the clinic's name, phone and hours,
  CLINIC_NAME / CLINIC_PHONE / CLINIC_HOURS) and `{advice_line}` (CLINIC_ADVICE_LINE, #7119 by default).
  A setting not configured shows a clear placeholder (start-up and `status` warn: bot/ops.py).
- `informed_line(...)`: "the clinic has been informed" only when the alert has someone to go to at this
  moment (the patient's clinician, the staff chat or an admin); otherwise the patient is asked to phone the
  clinic.
- Clearance: after an emergency or same-day red flag the program is held (`hold`, a `clearance` row) until
  a clinician or admin clears the patient (`clear`, /clear ID: who and when recorded); the patient's own
  resume in /settings is refused meanwhile. After a rest-today flag the next morning asks again
  (`ask_again`, a `flag_again` row) and a clear answer resumes the program by itself; the second "still there"
  in a row alerts the clinician once and asks the patient to phone the clinic (`still_there_reply`).
- `versions(rt, p)`: what produced a decision (catalogue version, thresholds and program fingerprints).
- The warning signs as buttons, in two steps (`group_buttons`, then `sign_buttons`): LINE shows at most 13
  quick replies, and there are 19 signs (rules.MENU_GROUPS). The check-in and signup use the same two steps.

Nothing here talks to Telegram.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot import alerts
from bot.coaching import patients as patient_state
from bot.coaching.messages import Buttons, join
from bot.i18n import t
from bot.runtime import Runtime
from bot.storage import outbox
from bot.storage.models import Clearance, Patient, Prompt, RedFlagReport
from bot.storage.patients import fall_risk
from bot.timeplan import at_local, local_date
from rules import MENU_GROUPS, Flag, Tier, load_program, load_redflags

HOLDING_TIERS = (Tier.EMERGENCY, Tier.SAME_DAY, Tier.SCREEN_BACK, Tier.SCREEN_KNEE)  # resume needs a clinician


def contact(rt: Runtime) -> dict[str, str]:
    """`{contact}` and `{advice_line}` for the red-flag texts, with placeholders for what is not configured."""
    st = rt.settings

    def value(setting: str | None, placeholder: str) -> str:
        return setting.strip() if setting and setting.strip() else t(placeholder)

    text = t("clinic.contact", clinic=value(st.clinic_name, "clinic.unset.name"),
             phone=value(st.clinic_phone, "clinic.unset.phone"), hours=value(st.clinic_hours, "clinic.unset.hours"))
    return {"contact": text, "advice_line": st.clinic_advice_line.strip() or "#7119"}


def informed_line(rt: Runtime, reaches_someone: bool) -> str:
    """What the patient is told about the clinic after a red flag: informed, or phone the clinic yourself."""
    return t("redflag.informed") if reaches_someone else t("redflag.call_clinic", **contact(rt))


def _fingerprint(value: object) -> str:
    """The first 12 hex digits of a SHA-256 of a frozen dataclass's repr (its every value, in field order)."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def versions(rt: Runtime, p: Patient) -> dict[str, str]:
    """What a decision about this patient was taken with: the red-flag catalogue's version and fingerprints of
    the thresholds in force and of the patient's program (stored on the decision row)."""
    return {"redflags": load_redflags().version, "thresholds": _fingerprint(rt.thresholds),
            "program": f"{p.condition}:{_fingerprint(load_program(p.condition, fall_risk(p)))}"}


# --- the warning signs as buttons, in two steps ----------------------------------------------------------

def group_buttons(group_data: Callable[[str], str], none_data: str) -> Buttons:
    """Step 1, "which kind": one button per group of signs, and 「どれもない」."""
    return [*([(t(f"checkin.group.{g}"), group_data(g))] for g in MENU_GROUPS),
            [(t("button.no_symptom"), none_data)]]


def sign_buttons(flags: tuple[Flag, ...], flag_data: Callable[[Flag], str], back_data: str,
                 none_data: str | None = None) -> Buttons:
    """Step 2: one button per sign (a group's, or the signs typed words suggest), 「ほかの症状を選ぶ」 (back to the
    groups) and, when given, 「どれもない」."""
    rows: Buttons = [[(t(f"flag.{f}"), flag_data(f))] for f in flags]
    rows.append([(t("button.other_signs"), back_data)])
    if none_data is not None:
        rows.append([(t("button.no_symptom"), none_data)])
    return rows


# --- clearance ------------------------------------------------------------------------------------------

async def open_hold(s: AsyncSession, p: Patient) -> Clearance | None:
    """The hold waiting for a clinician's clearance, if any."""
    return await s.scalar(select(Clearance)
                          .where(col(Clearance.patient_id) == p.id, col(Clearance.cleared_at).is_(None))
                          .order_by(col(Clearance.id).desc()).limit(1))


async def hold(s: AsyncSession, rt: Runtime, p: Patient, tier: str, flags: list[str]) -> None:
    """Hold the program until a clinician or admin clears the patient (one open hold at a time)."""
    if await open_hold(s, p) is None:
        assert p.id is not None  # a stored patient
        s.add(Clearance(patient_id=p.id, tier=tier, flags=flags, held_at=rt.clock.now()))
    await patient_state.pause(s, rt, p)


async def clear(s: AsyncSession, rt: Runtime, p: Patient, by: int) -> bool:
    """A clinician or admin cleared the patient: recorded (who, when); the program resumes and the patient is
    told (a `cleared` row). False when nothing held them."""
    held = await open_hold(s, p)
    if held is None:
        return False
    now = rt.clock.now()
    held.cleared_at, held.cleared_by = now, by
    await patient_state.resume(s, rt, p)
    await outbox.schedule(s, kind="cleared", due_at=now, now=now, patient_id=p.id, chat_id=p.chat_id,
                          variant=str(held.id))
    return True


def held_text(rt: Runtime) -> str:
    """Why the patient is paused and whom to call, until a clinician clears them."""
    return t("redflag.held", **contact(rt))


# After a rest-today flag, this many "still there" answers in a row to the morning question alert the clinician
# (once) and ask the patient to phone the clinic (docs/clinical.md).
STILL_THERE_ALERT_AFTER = 2


async def still_there(s: AsyncSession, p: Patient) -> int:
    """How many "still there" answers in a row the morning question got since the newest red-flag report."""
    since = await s.scalar(select(func.max(RedFlagReport.created_at)).where(col(RedFlagReport.patient_id) == p.id))
    answers = await s.scalars(select(Prompt.answer)
                              .where(col(Prompt.patient_id) == p.id, col(Prompt.kind) == "flag_again",
                                     col(Prompt.answered_at).is_not(None),
                                     *([col(Prompt.asked_at) >= since] if since is not None else []))
                              .order_by(col(Prompt.id).desc()))
    count = 0
    for answer in answers:
        if answer != "still":
            break
        count += 1
    return count


async def still_there_reply(s: AsyncSession, rt: Runtime, p: Patient) -> str:
    """The sign is still there this morning: rest today, asked again tomorrow. From the STILL_THERE_ALERT_AFTER-th
    answer in a row on, the patient is asked to phone the clinic; that answer alerts the clinician, once."""
    count = await still_there(s, p)
    await ask_again(s, rt, p)
    tomorrow = t("redflag.ask_again_tomorrow", time=p.morning_time)
    if count < STILL_THERE_ALERT_AFTER:
        return join(t("redflag.again_still", **contact(rt)), tomorrow)
    informed = ""
    if count == STILL_THERE_ALERT_AFTER:
        await alerts.schedule(s, rt, p, event="rest_today_persists", urgent=False)
        informed = informed_line(rt, await alerts.reaches_someone(s, rt, p))
    return join(t("redflag.again_still_call", days=count, **contact(rt)), informed, tomorrow)


async def ask_again(s: AsyncSession, rt: Runtime, p: Patient) -> str:
    """After a rest-today flag: the next morning (the patient's morning time) asks whether the sign has gone."""
    now = rt.clock.now()
    day = local_date(now, p.timezone) + timedelta(days=1)
    await outbox.schedule(s, kind="flag_again", due_at=at_local(day, p.morning_time, p.timezone), now=now,
                          patient_id=p.id, chat_id=p.chat_id, local_date=day)
    return t("redflag.ask_tomorrow", time=p.morning_time)


def holds(tier: str | None) -> bool:
    return tier is not None and Tier(tier) in HOLDING_TIERS
