"""The retention period (APPI: personal data is erased once it is no longer needed).

Once a day (and at start-up) `purge()` erases, exactly as /delete would, everyone whose data has outlived
its retention: patients whose program ended more than RETENTION_DAYS_AFTER_END days ago, and enrolments
left unfinished for ABANDONED_SIGNUP_DAYS. Each person is erased in their own transaction; only the
anonymous per-day erasure count remains.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.runtime import Runtime
from bot.storage import line as line_store
from bot.storage import patients as store
from bot.timeplan import local_date

log = logging.getLogger(__name__)

ABANDONED_SIGNUP_DAYS = 30  # an enrolment untouched this long holds answers (usual pain, red flags) for nothing
INTERVAL = timedelta(days=1)


async def purge(rt: Runtime) -> int:
    """Erase everyone past retention; returns how many people were erased."""
    now = rt.clock.now()
    today = local_date(now, rt.settings.clinic_timezone)
    async with rt.db.session() as s:
        due = await store.past_retention(s, today - timedelta(days=rt.settings.retention_days_after_end),
                                         now - timedelta(days=ABANDONED_SIGNUP_DAYS))
    async with rt.db.session() as s:
        await line_store.purge_hosted(s, now)  # pictures and files kept for LINE, past their time
    erased = 0
    for telegram_user_id in due:
        async with rt.db.session() as s:
            erased += await store.erase(s, telegram_user_id, today)
    if erased:
        log.info("retention: erased the data of %d people past the retention period", erased)
    return erased
