"""Alerts and notices for the clinic, scheduled as due rows like every other delivery.

Who receives them: an alert about a patient goes to that patient's clinician (docs/clinicians.md); a
patient without an active clinician, and every staff notice (trial signups), go to the clinic's staff
chat (STAFF_CHAT_ID) or, without one, to each admin (ADMIN_TELEGRAM_IDS); with neither, the alert is
recorded and logged (see docs/architecture.md). Weekly summaries are scheduled here too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.storage import clinicians, outbox
from bot.storage.models import Clinician, Outbox, Patient
from bot.timeplan import local_date


def recipients(rt: Runtime) -> list[int]:
    if rt.settings.staff_chat_id is not None:
        return [rt.settings.staff_chat_id]
    return list(rt.settings.admin_telegram_ids)


async def recipients_for(s: AsyncSession, rt: Runtime, p: Patient | None) -> list[int]:
    """The patient's clinician (as assigned now, not when the alert was scheduled); else the staff/admins."""
    c = await clinicians.get_active(s, p.clinician_id) if p is not None else None
    return [c.chat_id] if c is not None else recipients(rt)


async def reaches_someone(s: AsyncSession, rt: Runtime, p: Patient | None) -> bool:
    """An alert about this patient has someone to go to now (their clinician, the staff chat or an admin): only
    then is the patient told the clinic has been informed (bot/coaching/safety.py)."""
    return bool(await recipients_for(s, rt, p))


async def schedule_summary(s: AsyncSession, rt: Runtime, c: Clinician, *, after: datetime) -> bool:
    """This clinician's next weekly summary (SUMMARY_WEEKDAY at SUMMARY_TIME) after `after`, covering the 7 days
    before its delivery day. Idempotent: one row per clinician and summarised week (clinician_id, and
    local_date: the week's last day)."""
    from bot.reports.build import next_summary_at

    due = next_summary_at(rt, after)
    end = local_date(due, rt.settings.clinic_timezone) - timedelta(days=1)
    return await outbox.schedule(
        s, kind="weekly_summary", due_at=due, now=rt.clock.now(), chat_id=c.chat_id, clinician_id=c.id,
        local_date=end,
        payload={"clinician_id": c.id, "start": (end - timedelta(days=6)).isoformat(), "end": end.isoformat()},
    )


ALERT_EVENTS = ("red_flag", "severe_pain", "severe_before_twice", "severe_persists", "severe_morning",
                "step_back_at_minimum",
                "usual_pain_high", "condition_changed",  # these two: at enrolment, at a change of program
                "rest_today_persists")  # a rest-today sign "still there" two mornings in a row (coaching/safety.py)


def event_of(decision) -> str:
    """Why a decision alerts the clinic: the first alerting rule among its reasons."""
    return next((r for r in decision.reasons if r in ALERT_EVENTS), str(decision.action))


# The red-flag tiers whose notices are sent again when nobody pressed 「対応しました」 within
# ALERT_RENOTIFY_MINUTES: alerts about patients and signup notices alike.
RENOTIFY_TIERS = ("emergency", "same_day")


def renotifies(tier: str | None) -> bool:
    return tier in RENOTIFY_TIERS


async def schedule(s: AsyncSession, rt: Runtime, p: Patient, *, event: str, urgent: bool,
                   session_id: int | None = None, ratings: str = "", tier: str | None = None) -> None:
    """Alert the clinic at once about this patient (red flag, severe-pain stop, step back at level 1);
    once per event and session, however many answers in that session repeat it. An alert of an emergency or
    same-day red flag (`tier`; `urgent` is the emergency) also plans its re-notification (`alert_renotify`,
    same key columns) ALERT_RENOTIFY_MINUTES later: sent to the admins and the staff chat unless someone
    pressed 「対応しました」 by then."""
    now = rt.clock.now()
    variant = event if session_id is not None else f"{event}@{int(now.timestamp())}"
    await outbox.schedule(
        s, kind="alert", due_at=now, now=now, patient_id=p.id, session_id=session_id, variant=variant,
        payload={"event": event, "urgent": urgent, "nickname": p.nickname, "patient_id": p.id,
                 "ratings": ratings},  # the session's ratings that led to it (「運動前 2・運動中 8」)
    )
    if urgent or renotifies(tier):
        await outbox.schedule(
            s, kind="alert_renotify", due_at=now + timedelta(minutes=rt.settings.alert_renotify_minutes), now=now,
            patient_id=p.id, session_id=session_id, variant=variant, payload={"patient_id": p.id},
        )


async def undelivered(s: AsyncSession, rt: Runtime, row: Outbox) -> None:
    """An alert the delivery gave up on before it reached anyone (refused, blocked, or out of retries): the
    patient, who may have read "the clinic has been informed", is told to phone the clinic instead."""
    if row.kind != "alert" or row.patient_id is None:
        return
    now = rt.clock.now()
    await outbox.schedule(s, kind="alert_undelivered", due_at=now, now=now, patient_id=row.patient_id,
                          variant=str(row.id))


def renotify_recipients(rt: Runtime) -> list[int]:
    """Where an unacknowledged emergency alert goes again: the staff chat and every admin (never a clinician
    who does not look after the patient)."""
    chats = ([rt.settings.staff_chat_id] if rt.settings.staff_chat_id is not None else [])
    return list(dict.fromkeys([*chats, *rt.settings.admin_telegram_ids]))


def acknowledged(row: Outbox) -> dict | None:
    """Who pressed 「対応しました」 under this alert, and when ({"by", "name", "at"}), or None."""
    ack = row.payload.get("ack")
    return ack if isinstance(ack, dict) else None


def acknowledge(row: Outbox, *, by: int, name: str, at: datetime) -> bool:
    """Record the first 「対応しました」 press on this alert (who, when). False if it was already recorded."""
    if acknowledged(row) is not None:
        return False
    row.payload = {**row.payload, "ack": {"by": by, "name": name, "at": at.isoformat()}}
    return True


async def staff_notice(s: AsyncSession, rt: Runtime, *, event: str, telegram_user_id: int,
                       nickname: str | None = None, detail: str = "", tier: str | None = None) -> None:
    """Tell the clinic's staff about a trial signup (completed, or a red flag answered during it: with its
    `tier`, a link to the person's chat and 「対応しました」). An emergency or same-day one is sent again
    (`notice_renotify`, same key columns) to the staff chat and admins after ALERT_RENOTIFY_MINUTES unless
    someone pressed 「対応しました」, as alerts are."""
    now = rt.clock.now()
    variant = f"{event}@{int(now.timestamp())}"
    await outbox.schedule(
        s, kind="staff_notice", due_at=now, now=now, telegram_user_id=telegram_user_id, variant=variant,
        payload={"event": event, "nickname": nickname or "", "detail": detail, **({"tier": tier} if tier else {})},
    )
    if renotifies(tier):
        due = now + timedelta(minutes=rt.settings.alert_renotify_minutes)
        await outbox.schedule(s, kind="notice_renotify", due_at=due, now=now, telegram_user_id=telegram_user_id,
                              variant=variant)
