"""The consent text has a version: changing the text without raising CONSENT_VERSION fails here, so
patients are always asked again when what they agree to changes. The text names every kind of data kept."""

from __future__ import annotations

import hashlib

from bot.coaching.consent import CONSENT_VERSION
from bot.i18n import catalog

# sha256 of the consent texts (signup.consent + consent.what) as of each version.
FINGERPRINTS = {2: "ac39288f5a9d630a3e75dd5ec6d7d1db37e0e24f0dbaa2c527230afffe418145"}


def fingerprint() -> str:
    texts = catalog()
    return hashlib.sha256((texts["signup.consent"] + "\n" + texts["consent.what"]).encode()).hexdigest()


def test_a_changed_consent_text_has_a_new_version():
    assert FINGERPRINTS.get(CONSENT_VERSION) == fingerprint(), (
        "the consent text changed: raise CONSENT_VERSION in bot/coaching/consent.py (patients are asked "
        f"again) and record the new fingerprint here: {{{CONSENT_VERSION + 1}: {fingerprint()!r}}}")


def test_the_consent_text_names_every_kind_of_data_kept():
    what = catalog()["consent.what"]
    for kind in ("呼び名", "痛みの点数", "質問へのお答え", "症状のご報告", "アンケート", "メモ", "記録",
                 "ユーザーID", "チャットID", "要配慮個人情報", "/mydata", "/delete", "{days}日", "/privacy"):
        assert kind in what, kind
