"""Test-only kill points for the crash tests (tests/e2e/test_crash.py, bench/crash.py).

`ITAMI_CRASH_AT=before_commit|after_commit|after_reply` makes the process end at once (os._exit, like
kill -9: no clean-up, no flush) at that point of the first update a handler takes: before its transaction
commits, right after the commit, or after its replies were sent and recorded. Read once, at import; unset
(always, in production) it costs one comparison per update.
"""

from __future__ import annotations

import os

POINTS = ("before_commit", "after_commit", "after_reply")
CRASH_AT = os.environ.get("ITAMI_CRASH_AT", "")
EXIT_STATUS = 137  # what a shell reports for kill -9


def reached(point: str) -> None:
    """End the process here if ITAMI_CRASH_AT names this point."""
    if CRASH_AT == point:
        os._exit(EXIT_STATUS)
