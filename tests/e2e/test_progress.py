"""The patient sees their progress (issue 10 §5), through the stand-in with weeks of time travel: the optional
contact at signup, 「…さんの1週間」 on their own day with what went up and a chart, milestones celebrated once,
the end-of-trial report (text and picture) with its buttons, and the staff notice of a booking request with
the contact; /mydata carries the contact."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.i18n import t
from bot.storage.models import Decision, Outbox, Patient
from tests.harness import Coach
from tests.helpers import START, USER, answer_signup, day

ADMIN = 9001
WEEKLY = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # Tue 12-08 19:00 Tokyo: a week after signup (Tuesday)
END_ROUND = datetime(2026, 12, 14, 23, 0, tzinfo=UTC)  # 12-15 08:00 Tokyo: the trial's last day
TRIAL_REPORT = datetime(2026, 12, 15, 10, 30, tzinfo=UTC)  # 12-15 19:30 Tokyo


@pytest.fixture
async def coach(standin, database_url):
    c = await Coach(standin, database_url, START, admin_telegram_ids=[ADMIN], outcomes_enabled=True).start()
    yield c
    await c.stop()


def bodies(coach, chat: int, since: int = 0) -> list[str]:
    return [m.body or "" for m in coach.standin.messages(chat)[since:]]


async def test_a_trial_seen_by_the_patient_week_by_week_and_the_booking_reaches_the_staff(coach):
    await coach.text(USER, "/trial")
    await coach.press(USER, "同意して始める")
    await answer_signup(coach)
    await coach.text(USER, "はなこ")
    assert "連絡先" not in coach.last(USER)
    await coach.press(USER, t("button.contact"))
    assert "診察券番号" in coach.last(USER) and "連絡するためだけに使います" in coach.last(USER)
    await coach.text(USER, "電話して")  # not a number: asked again, nothing kept
    assert "数字とハイフン" in coach.last(USER)
    await coach.text(USER, "０９０－１２３４－５６７８")
    assert "連絡先：090-1234-5678" in coach.last(USER)
    await coach.press(USER, "この内容で始める")
    [p] = await coach.rows(Patient)
    assert p.contact == "090-1234-5678"
    # the baseline measures
    await coach.press(USER, "5")
    await coach.press(USER, "特にありません")
    await coach.press(USER, "2")

    for _ in range(6):  # Tue..Sun: easy sessions, the dose goes up
        await day(coach, 2, 2, 1, 1)
    celebrations = [b for b in bodies(coach, USER) if b.startswith("🎉")]
    assert len(celebrations) == 1 and "はじめて運動量が1段階上がりました" in celebrations[0]

    seen = len(coach.standin.messages(USER))
    await coach.travel_to(WEEKLY)
    week = bodies(coach, USER, seen)
    [report] = [b for b in week if b.startswith("📅 はなこさんの1週間（12/1〜12/7）")]
    assert "運動した日：6日" in report
    assert "⬆ 動かす範囲を一段階上げました（背中の丸め・反らし・お尻上げ" in report  # each exercise its own ladder
    assert report.count("⬆") == len(await coach.rows(Decision, Decision.action == "progress"))  # one line a raise
    assert "運動前の痛みは平均 2.0、運動直後は平均 1.0 でした。" in report
    assert "6日続けて運動できました" in report
    [chart] = [m for m in coach.standin.messages(USER)[seen:] if m.kind == "photo"]
    assert chart.file_bytes.startswith(b"\x89PNG")
    await coach.travel(seconds=1)
    assert any("最初の1週間を終えました" in b for b in bodies(coach, USER, seen))
    await coach.travel(days=1)  # nothing is celebrated twice
    assert sum("最初の1週間" in b for b in bodies(coach, USER)) == 1
    assert sum("はじめて運動量" in b for b in bodies(coach, USER)) == 1

    # the trial's last day: the end round, then the report with its buttons
    await coach.travel_to(END_ROUND)
    await coach.press(USER, "2")
    await coach.press(USER, "1")
    await coach.press(USER, "とても良くなった")
    seen = len(coach.standin.messages(USER))
    await coach.travel_to(TRIAL_REPORT)
    sent = coach.standin.messages(USER)[seen:]
    assert [m.kind for m in sent][-2:] == ["photo", "text"], [m.summary() for m in sent]
    assert sent[-2].file_bytes.startswith(b"\x89PNG")
    summary = sent[-1].body
    assert summary.startswith("📋 はなこさんの体験期間のまとめ（12/1〜12/15）")
    assert "運動した日：6日" in summary and "いまの運動量：\n腰の押しつけ: 10回・5秒保つ" in summary
    assert "この1週間の平均の痛み：5 → 2（−3、はっきりした改善）" in summary
    assert [b[0] for row in sent[-1].buttons for b in row] == [t("button.booking"), t("button.on_my_own")]

    await coach.press(USER, t("button.booking"))
    assert "時間帯" in coach.last(USER)
    await coach.press(USER, t("booking.time.pm"))
    assert "平日の午後" in coach.last(USER) and "担当スタッフから連絡します" in coach.last(USER)
    await coach.travel(seconds=1)
    [notice] = [b for b in bodies(coach, ADMIN) if b.startswith("【予約の希望】")]
    assert "はなこさん" in notice and "平日の午後" in notice and "090-1234-5678" in notice
    assert await coach.count(Outbox, Outbox.kind == "staff_notice", Outbox.variant.like("booking%")) == 1

    [doc] = await coach.text(USER, "/mydata")
    assert "090-1234-5678" in json.dumps(json.loads(doc.file_bytes), ensure_ascii=False)
