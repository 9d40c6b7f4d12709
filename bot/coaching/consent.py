"""What a patient agreed to (APPI): the consent text and its version.

The consent text (`signup.consent` around `consent.what` in messages.po) lists every kind of data kept and
has a version, CONSENT_VERSION. Raise it whenever that text changes (tests/coaching/test_consent.py holds
the text's fingerprint and fails until you do). Each patient row keeps the version they agreed to
(`patient.consent_version`); a patient whose version is older is asked again before anything new is
stored: the handlers refuse their ratings and answers kindly and show the new text with the consent
buttons. Declining keeps what is stored, stores nothing new, and points to /mydata and /delete.
"""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.storage.models import Patient

# 1: the first text (ratings, symptoms, times, nickname). 2: every kind of data listed (questions and
# answers, notes, questionnaires, contact and chat ids, the audit log), the retention period, /privacy.
CONSENT_VERSION = 2


def current(p: Patient) -> bool:
    """The patient agreed to the current consent text."""
    return p.consent_version >= CONSENT_VERSION


def what(rt: Runtime) -> str:
    """The list of what is stored, who sees it and for how long (part of every consent text)."""
    return t("consent.what", days=rt.settings.retention_days_after_end)


def agree(rt: Runtime, p: Patient) -> None:
    """The patient agreed to the current text (again)."""
    p.consent_version = CONSENT_VERSION
    p.consent_at = rt.clock.now()
