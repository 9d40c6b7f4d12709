"""Patients' local clock times ("HH:MM" in their time zone) to UTC instants, and back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def hhmm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def at_local(day: date, clock_time: str, tz: str) -> datetime:
    """The UTC instant of `clock_time` on `day` in `tz`."""
    return datetime.combine(day, hhmm(clock_time), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def next_at(now: datetime, clock_time: str, tz: str, *, min_lead: timedelta = timedelta(minutes=1)) -> date:
    """The first local date whose `clock_time` is at least `min_lead` after `now`."""
    today = local_date(now, tz)
    return today if at_local(today, clock_time, tz) >= now + min_lead else today + timedelta(days=1)
