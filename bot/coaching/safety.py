"""The safety loop around the red-flag rules (issue 8): the clinic's contact in every piece of advice, and
whether the patient may be told that the clinic has been informed.

- `contact(rt)`: the parameters every red-flag text takes: `{contact}` (the clinic's name, phone and hours,
  CLINIC_NAME / CLINIC_PHONE / CLINIC_HOURS) and `{advice_line}` (CLINIC_ADVICE_LINE, #7119 by default).
  A setting not configured shows a clear placeholder (start-up and `status` warn: bot/ops.py).
- `informed_line(...)`: "the clinic has been informed" only when the alert has someone to go to at this
  moment (the patient's clinician, the staff chat or an admin); otherwise the patient is asked to phone the
  clinic. When the alert later cannot be delivered after all, the patient is told so (bot/alerts.py:
  undelivered).

Nothing here talks to Telegram.
"""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime


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
