"""The weekly summary says who needs attention (issue 10 §4), patients and their clinician in one test:
an unacknowledged red flag heads it until 「対応しました」; the outcome measures show baseline -> now with the
MCID two weeks later; the CSV export carries the scores."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.i18n import t
from tests.e2e.test_clinicians import ADMIN, DOC, enrol_via_link, join
from tests.harness import Coach
from tests.helpers import START, day, press_sign

AKI, BEN = 5001, 5002
END_ROUND = datetime(2026, 12, 14, 23, 0, tzinfo=UTC)  # 12-15 08:00 Tokyo: both trials' last day


@pytest.fixture
async def clinic(standin, database_url):
    c = await Coach(standin, database_url, START, admin_telegram_ids=[ADMIN], outcomes_enabled=True).start()
    yield c
    await c.stop()


async def enrol(coach, user: int, link_code: str, nickname: str, pain: str, days: str) -> None:
    await enrol_via_link(coach, user, link_code, nickname)
    await coach.press(user, pain)  # the baseline: average pain last week
    await coach.text(user, "階段をのぼる")  # PSFS: one activity
    await coach.press(user, "3")
    await coach.press(user, "これで全部です")
    await coach.press(user, days)


async def summary(coach) -> str:
    return "\n".join(m.body for m in await coach.text(DOC, "/summary") if m.kind == "text")


async def test_red_flag_first_until_acknowledged_then_outcomes_baseline_to_now(clinic):
    await join(clinic)
    [code] = [w for m in clinic.standin.messages(DOC) for w in m.body.split("c_")[1:2]]
    link = code.split()[0].strip()
    await enrol(clinic, AKI, link, "あき", "6", "3")
    await enrol(clinic, BEN, link, "べん", "4", "1")
    for _ in range(3):
        await day(clinic, 2, 2, 1, 1, user=AKI)
    await clinic.text(BEN, "/symptom")
    await press_sign(clinic, "swelling", user=BEN)
    await clinic.travel(seconds=1)  # the alert reaches the clinician

    text = await summary(clinic)
    assert text.index("べんさん（ID") < text.index("あき")
    assert "理由：危険サインの報告" in text
    assert "経過（はじめ→いま）：平均の痛み はじめ 4" in text  # the baseline, nothing to compare yet

    await clinic.press(DOC, t("button.acknowledge"))
    assert "理由：危険サイン" not in await summary(clinic)

    # two weeks later, the trial's last day: あき answers the end round
    await clinic.travel_to(END_ROUND)
    await clinic.press(AKI, "3")
    await clinic.press(AKI, "7")  # 「階段をのぼる」 3 -> 7
    await clinic.press(AKI, "1")
    await clinic.press(AKI, "かなり良くなった")
    text = await summary(clinic)
    aki = text[text.index("あきさん（ID"):]
    assert "平均の痛み 6→3（−3.0・✔MCID）" in aki and "PSFS 3→7（+4.0・✔MCID）" in aki
    assert "全般的変化 かなり良くなった・✔MCID" in aki
    assert "開始から：実施 3/" in aki and "体験期間 残り0日" in aki

    [doc] = await clinic.text(DOC, "/export")
    rows = list(csv.reader(io.StringIO(doc.file_bytes.decode("utf-8-sig"))))
    scores = [(r[2], r[15], r[16], r[17]) for r in rows if r[0] == "評価"]
    assert ("あき", "平均の痛み", "はじめ", "6") in scores and ("あき", "平均の痛み", "体験期間の終わり", "3") in scores
    assert ("あき", "全般的変化", "体験期間の終わり", "2") in scores
