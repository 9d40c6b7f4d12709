"""Outcome measures end to end (issue 10 §3): the baseline at signup by buttons and typed activities, the
round on the trial's last day two weeks later (PGIC included), every answer and score stored, the results
with the change and whether it passes the MCID; stale and forged presses change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import t
from bot.storage.models import OutcomeAnswer, OutcomeRound, OutcomeScore, Patient
from tests.harness import Coach
from tests.helpers import START, USER, answer_signup, up_to_todays_signs

# the trial's last day (12-15), an hour after the 07:00 morning question: the `end` round
END_ROUND = datetime(2026, 12, 14, 23, 0, tzinfo=UTC)


@pytest.fixture
async def coach(standin, database_url):
    c = await Coach(standin, database_url, START, outcomes_enabled=True).start()
    yield c
    await c.stop()


async def sign_up(coach, user: int = USER) -> list:
    await coach.text(user, "/trial")
    await coach.press(user, "同意して始める")
    await answer_signup(coach, user)
    await coach.text(user, "はなこ")
    return await coach.press(user, "この内容で始める")


async def test_baseline_at_signup_then_the_end_round_with_change_and_mcid(coach):
    sent = await sign_up(coach)
    # welcome, then the baseline's introduction and its first question: the buttons on the last message
    assert "ようこそ" in sent[0].body
    assert "いまの状態" in sent[-2].body and not sent[-2].buttons
    first = sent[-1]
    assert "この1週間の平均の痛み" in first.body and "0＝痛みなし、10＝想像できる最悪の痛み" in first.body
    assert [b[0] for row in first.buttons for b in row] == [str(n) for n in range(11)]
    assert "0＝痛みなし、10＝想像できる最悪の痛み" in t("ask.before")  # the daily question's anchors

    await coach.press(USER, "6")
    assert "しにくくなっている動作" in coach.last(USER)
    await coach.text(USER, "階段をのぼる")
    assert "「階段をのぼる」は、いまどのくらいできますか" in coach.last(USER)
    await coach.press(USER, "3")
    assert "2つ目" in coach.last(USER)
    await coach.text(USER, "x" * 31)  # too long: asked again, nothing stored
    assert "30文字まで" in coach.last(USER)
    await coach.text(USER, "靴下をはく")
    await coach.press(USER, "4")
    await coach.press(USER, "これで全部です")  # two activities are enough
    assert "減らした日" in coach.last(USER)
    await coach.press(USER, "3")
    assert "記録しました" in coach.last(USER) and "2週間ごと" in coach.last(USER)

    [baseline] = await coach.rows(OutcomeRound)
    assert baseline.occasion == "baseline" and baseline.finished_at is not None
    assert baseline.activities == ["階段をのぼる", "靴下をはく"]
    scores = {s.instrument: s.score for s in await coach.rows(OutcomeScore)}
    assert scores == {"pain_week": 6, "psfs": 3.5, "limited_days": 3}
    assert await coach.count(OutcomeAnswer) == 4
    [p] = await coach.rows(Patient)
    assert p.awaiting is None

    # two weeks later, on the trial's last day: the same activities again, and PGIC
    await coach.travel_to(END_ROUND)
    assert "体験期間の最後の日" in "".join(m.body for m in coach.standin.messages(USER)[-3:])
    await coach.press(USER, "3")  # pain 6 -> 3
    assert "「階段をのぼる」" in coach.last(USER)
    await coach.press(USER, "7")
    assert "「靴下をはく」" in coach.last(USER)
    await coach.press(USER, "6")  # PSFS 3.5 -> 6.5
    await coach.press(USER, "2")  # days 3 -> 2
    assert "変わりましたか" in coach.last(USER)
    await coach.press(USER, "かなり良くなった")
    result = coach.last(USER)
    assert "6 → 3（−3、はっきりした改善）" in result
    assert "3.5 → 6.5（+3、はっきりした改善）" in result
    assert "3 → 2（−1、改善）" in result
    assert "かなり良くなった" in result

    rounds = await coach.rows(OutcomeRound)
    assert [r.occasion for r in sorted(rounds, key=lambda r: r.id)] == ["baseline", "end"]
    end_scores = {s.instrument: s.score for s in await coach.rows(OutcomeScore, OutcomeScore.occasion == "end")}
    assert end_scores == {"pain_week": 3, "psfs": 6.5, "limited_days": 2, "pgic": 2}
    assert await coach.count(OutcomeAnswer) == 4 + 5


async def test_stale_and_forged_presses_change_nothing(coach):
    await sign_up(coach)
    question = coach.standin.last_message(USER)
    [data] = [b[1] for row in question.buttons for b in row if b[0] == "5"]
    await coach.press(USER, "5")
    # the same button again (a double tap), one for a step not reached, one for a round that is not there
    await coach.press_raw(USER, data, question.message_id)
    await coach.press_raw(USER, data.replace(":0:", ":3:"), question.message_id)
    await coach.press_raw(USER, "om:999:0:1", question.message_id)
    assert await coach.count(OutcomeAnswer) == 1
    # PSFS: nothing named, at once
    await coach.press(USER, "特にありません")
    assert "減らした日" in coach.last(USER)
    assert coach.last(USER).startswith(t("outcome.progress", n=3))  # the third question, not a second 「2問目」
    await coach.press(USER, "0")
    assert {s.instrument for s in await coach.rows(OutcomeScore)} == {"pain_week", "limited_days"}


async def test_a_new_trial_period_starts_with_its_own_baseline(coach):
    await sign_up(coach)
    await coach.press(USER, "6")
    await coach.press(USER, "特にありません")
    await coach.press(USER, "3")
    await coach.travel_to(datetime(2026, 12, 15, 14, 0, tzinfo=UTC))  # 23:00 on the last day: the trial ends
    await coach.text(USER, "/start")
    await coach.press(USER, t("button.rejoin"))
    sent = await coach.press(USER, t("button.none_apply"))
    assert "いまの状態" in sent[-2].body and "この1週間の平均の痛み" in sent[-1].body
    await coach.press(USER, "4")
    await coach.press(USER, "特にありません")
    await coach.press(USER, "2")
    baselines = await coach.rows(OutcomeRound, OutcomeRound.occasion == "baseline")
    assert len(baselines) == 2 and all(r.finished_at is not None for r in baselines)


async def test_a_patient_held_at_signup_is_asked_the_baseline_at_the_first_round_after_clearance(
        standin, database_url):
    admin = 9001
    coach = await Coach(standin, database_url, START, outcomes_enabled=True, admin_telegram_ids=[admin]).start()
    try:
        await coach.text(USER, "/trial")
        await coach.press(USER, "同意して始める")
        await up_to_todays_signs(coach, condition=t("condition.low_back"))  # no fall, not unsteady
        [screen] = await coach.press(USER, "どれも当てはまらない")
        item = next(line for line in screen.body.splitlines() if t("redflag.q.back_weight_loss") in line)
        await coach.press(USER, t("button.some_apply"))
        await coach.press(USER, item.split(".")[0])
        await coach.text(USER, "09:00")
        await coach.press(USER, "07:00")
        await coach.text(USER, "はなこ")
        sent = await coach.press(USER, "この内容で始める")
        assert not any("いまの状態" in m.body for m in sent)  # held: no questions now
        assert await coach.count(OutcomeRound) == 0
        [p] = await coach.rows(Patient)
        await coach.text(admin, f"/clear {p.id}")
        await coach.travel_to(END_ROUND)  # the first round asks the baseline
        [r] = await coach.rows(OutcomeRound)
        assert r.occasion == "baseline" and "この1週間の平均の痛み" in coach.last(USER)
    finally:
        await coach.stop()
