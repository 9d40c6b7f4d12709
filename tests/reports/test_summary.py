"""Weekly summary numbers on a generated week, checked against values computed by hand; attention order;
the text; and the charts (non-empty PNGs with the expected series)."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.reports import charts, text
from bot.reports.summary import (
    DecisionRow,
    Extras,
    FlagRow,
    PatientRow,
    Period,
    RatingStats,
    SessionRow,
    broken_limits,
    summarise,
)
from rules import Thresholds
from tests.reports.week import (
    DECISIONS,
    ENROLLED,
    FLAGS,
    LAST_ANSWERS,
    MISSED,
    NOW,
    ONES,
    PATIENTS,
    PERIOD,
    SESSIONS,
    TZ,
    at,
    d,
)
from tests.reports.week import (
    done as session,
)


@pytest.fixture(scope="module")
def week():
    result = summarise(PERIOD, PATIENTS, SESSIONS, DECISIONS, FLAGS, MISSED, LAST_ANSWERS, now=NOW, tz=TZ)
    return {s.patient.id: s for s in result}, [s.patient.id for s in result]


def test_attention_first_most_serious_first(week):
    by_id, order = week
    # urgent red flag, then a stop, then falling adherence, then silence, then a worse trend; then good
    assert order == [3, 2, 6, 4, 5, 1]
    assert [by_id[i].tier for i in order] == ["attention"] * 5 + ["good"]
    assert by_id[6].attention == ("adherence",) and (by_id[6].prev_done, by_id[6].done) == (4, 2)
    assert by_id[3].attention == ("red_flag", "stopped") and by_id[3].urgent
    assert by_id[2].attention == ("stopped", "step_backs")
    assert by_id[4].attention == ("no_answer",) and by_id[4].days_without_answer == 5
    assert by_id[5].attention == ("worsening",)
    # paused after the red flag: silence is expected, not a reason
    assert "no_answer" not in by_id[3].attention


def test_adherence_hand_computed(week):
    by_id, _ = week
    expected = {  # planned, done this week, done in the 14 days to Sunday, 6-in-2-weeks met
        1: (7, 6, 9, True), 2: (4, 2, 2, False), 3: (1, 1, 1, False), 4: (7, 1, 1, False),
        5: (3, 3, 5, False), 6: (3, 2, 6, True),
    }
    for pid, (planned, done, done14, met) in expected.items():
        s = by_id[pid]
        assert (s.planned, s.done, s.done_14, s.met_target) == (planned, done, done14, met), pid


def test_ratings_hand_computed(week):
    by_id, _ = week
    one = by_id[1].ratings
    # before 2,2,2,3,2,1 -> 12/6 = 2.0 (worst 3); the week before 3,3,3 -> change -1.0
    assert one["before"] == RatingStats(6, 2.0, 3, 3, 3.0) and one["before"].change == -1.0
    assert one["during"] == RatingStats(6, 2.0, 3, 3, 3.0)  # 2,3,2,2,1,2
    assert one["after"] == RatingStats(6, 1.5, 2, 3, 2.0) and one["after"].change == -0.5  # 1,2,2,2,1,1
    assert one["next_morning"] == RatingStats(6, 1.5, 2, 3, 2.0)  # 2,2,1,2,1,1
    two = by_id[2].ratings
    assert two["during"] == RatingStats(3, 5.7, 8, 0, None)  # 5,4,8 -> 17/3
    assert two["during"].change is None  # nothing the week before
    assert two["after"] == RatingStats(2, 4.0, 5, 0, None)
    five = by_id[5].ratings["next_morning"]
    assert five == RatingStats(3, 3.3, 4, 2, 1.5) and five.change == 1.8  # 10/3 vs 3/2


def test_limits_and_decisions_hand_computed(week):
    by_id, _ = week
    assert by_id[1].limit_sessions == 0 and not by_id[1].limits
    # 12/07 during 5; 12/09 during 4, after 5 > 4 and > 2, morning 4 > 2; 12/12 during 8 (>= 7)
    assert by_id[2].limit_sessions == 3
    assert by_id[2].limits == Counter(during_over=3, severe=1, not_settled=1, morning_above=1)
    assert by_id[5].limits == Counter(morning_above=3)
    assert by_id[2].counts == Counter(step_back=2, hold=1, stop=1)
    assert [x.kind for x in by_id[2].decisions] == ["step_back", "step_back", "hold", "stop"]
    assert by_id[1].counts == Counter({"raise": 1})
    assert by_id[2].missed_prompts == 2 and by_id[4].missed_prompts == 6 and by_id[1].missed_prompts == 0
    assert [f.flags for f in by_id[3].red_flags] == [("bladder_bowel",)]


def test_limits_follow_the_clinics_thresholds():
    row = SessionRow(1, d(7), "done", 2, 4, 3, 2)
    assert broken_limits(row, Thresholds()) == ["during_over"]
    assert broken_limits(row, Thresholds(during_max=4)) == []


def test_a_past_week_is_judged_at_its_end():
    """"No answer for 3 days" counts to the end of the week summarised, not to today."""
    later = NOW.replace(month=12, day=28)
    [s] = summarise(Period.week_of(d(30, 11)), PATIENTS[:1], SESSIONS, [], [], {}, {1: LAST_ANSWERS[1]},
                    now=later, tz=TZ)
    assert s.days_without_answer == 0  # enrolled 11/20; the week ends 12/06, the last answer is later


def test_text_lists_attention_first_with_the_numbers(week):
    result = summarise(PERIOD, PATIENTS, SESSIONS, DECISIONS, FLAGS, MISSED, LAST_ANSWERS, now=NOW, tz=TZ)
    [message] = text.summary_messages(PERIOD, result, tz=TZ, scope_name="田中")
    assert message.startswith("【週次サマリー】12/7(月)〜12/13(日)\n"
                              "担当：田中　患者 6人：🔴要対応 5・🟡注意 0・🟢順調 1")
    names = [message.index(f"{n}さん（ID") for n in ("よしこ", "たろう", "じろう", "けんじ", "さくら")]
    assert names == sorted(names)
    # the rest, one line each, after those who need attention
    rest = message[message.index("── そのほかの 1人"):]
    assert "🟢 ID 1 はなこさん・体験中・実施 6/7・運動中 平均2.0" in rest
    assert "理由：実施が減少（先週 4回 → 今週 2回）" in message[names[2]:names[3]]
    taro = message[names[1]:names[2]]
    assert "理由：運動を中止、運動量ダウン2回以上" in taro
    assert "目安超え 3回：運動中が3超×3、7以上の強い痛み×1、直後に落ち着かず×1、翌朝が運動前より高い×1" in taro
    assert "判断：12/7 回数↓、12/9 動かす範囲↓、12/9 据え置き（直後に落ち着かず）、12/12 中止（強い痛み）" in taro
    assert "未回答の質問 2件" in taro
    yoshiko = message[names[0]:names[1]]
    assert "【至急】危険サイン" in yoshiko and "危険サイン：12/10 新しく・急に、尿が出にくい" in yoshiko
    assert "5日間回答なし" in message[names[3]:names[4]]
    jiro = message[names[2]:names[3]]  # the fall-risk flag under the name line; no one else's block has it
    assert jiro.splitlines()[1] == "　⚠ 転倒リスク：この1年に転んだ・ふらつきがある（立って行う運動は支えの多いやり方）"
    assert message.count("転倒リスク") == 1


def test_long_summaries_are_split_between_patients(week):
    result = summarise(PERIOD, PATIENTS, SESSIONS, DECISIONS, FLAGS, MISSED, LAST_ANSWERS, now=NOW, tz=TZ)
    many = result * 30
    messages = text.summary_messages(PERIOD, many, tz=TZ, scope_name="田中")
    assert len(messages) > 1 and all(len(m) <= 4096 for m in messages)
    assert sum(m.count("さん（ID") + m.count("🟢 ID") for m in messages) == len(many)


def test_patient_chart_has_the_four_ratings_the_band_and_the_decisions():
    rows = [s for s in SESSIONS if s.patient_id == 2]
    chart = charts.patient_chart("たろう", PERIOD.end, rows, [(d(7), "step_back"), (d(9), "step_back"),
                                                              (d(12), "stop")])
    assert chart.png.startswith(b"\x89PNG") and len(chart.png) > 20_000
    assert chart.series == ("目安 0〜3", "運動前", "運動中", "運動直後", "翌朝", "下げた", "中止")
    assert chart.points["運動前"] == 3 and chart.points["運動中"] == 3 and chart.points["運動直後"] == 2
    assert chart.points["翌朝"] == 2 and chart.points["下げた"] == 2 and chart.points["中止"] == 1


def test_overview_chart_shows_every_patient_by_status(week):
    result = summarise(PERIOD, PATIENTS, SESSIONS, DECISIONS, FLAGS, MISSED, LAST_ANSWERS, now=NOW, tz=TZ)
    chart = charts.overview_chart(result, PERIOD.start, PERIOD.end)
    assert chart.png.startswith(b"\x89PNG") and len(chart.png) > 10_000
    assert chart.series == ("要対応", "順調", "目標6回")
    assert chart.points == {"要対応": 5, "順調": 1}


def test_japanese_glyphs_come_from_a_japanese_font():
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family=charts.FONT_FAMILY), fallback_to_default=False)
    assert path.endswith("ipaexg.ttf")


def test_summaries_name_why_a_session_stopped_and_the_severe_pain_holds():
    """Issue 8 §2: a pause because severe pain stayed high, too much pain before exercise, and the severe-pain
    holds are told apart in clinicians' summaries (not all 「強い痛み」)."""
    from datetime import UTC, datetime

    from bot.i18n import t
    from bot.reports.summary import DecisionRow
    from bot.reports.text import decision_label

    at = datetime(2026, 12, 2, tzinfo=UTC)

    def label(action: str, reasons: tuple[str, ...], message: str) -> str:
        return decision_label(DecisionRow(1, at, action, None, reasons, message, "next_morning"), "knee")

    assert t("report.stop.severe_persists") in label("stop", ("severe_persists",), "decision.stop.severe_persists")
    assert t("report.stop.severe_before_twice") in label("stop", ("severe_before_twice",),
                                                         "decision.stop.severe_before_twice")
    assert t("report.stop.severe_pain") in label("stop", ("severe_pain", "during_over_limit"),
                                                 "decision.stop.severe_pain")
    assert t("report.hold.ceiling_pending") in label("hold", ("usual_pain_high",), "decision.hold.ceiling_pending")


def test_needs_in_order_with_one_line_of_why_and_the_progress_fields():
    """Issue 10 §4: an unacknowledged red flag first, then paused for severe pain, an unanswered question, the
    minimum level; an acknowledged red flag no longer heads the list. Per patient: outcome measures baseline ->
    now with the MCID, sessions since the start, 運動前後の痛みの変化, what was raised, the trial's days left."""
    row = lambda pid, name, paused=False: PatientRow(pid, name, "knee", "trial", paused, ONES, ENROLLED,  # noqa: E731
                                                     None, d(20))
    patients = [row(11, "あき"), row(12, "いち", paused=True), row(13, "うめ"), row(14, "えり"), row(15, "おと")]
    sessions = [session(15, d(8), 4, 2, 1, 2), session(15, d(10), 3, 2, 2, 2), session(15, d(12), 3, 2, 3, 2),
                *[session(p, d(n), 2, 2, 2, 2) for p in (11, 13, 14) for n in (8, 10, 12)]]
    decisions = [DecisionRow(14, at(10, 9), "hold", None, ("step_back_at_minimum",), "decision.hold.at_minimum",
                             "during"),
                 DecisionRow(15, at(11, 7), "progress", "reps", ("limits_met",), "decision.progress", "next_morning")]
    flags = [FlagRow(11, at(9, 9), ("swelling",), False), FlagRow(15, at(9, 9), ("swelling",), False)]
    extras = {
        11: Extras(flag_alerts=1, flag_alerts_open=1),
        12: Extras(paused_severe=True),
        13: Extras(questions=2),
        15: Extras(flag_alerts=1, flag_alerts_open=0, done_total=9, planned_total=12,
                   outcomes={"pain_week": (6, 4), "psfs": (3.5, 4.5), "pgic": (None, 2), "limited_days": (3, None)}),
    }
    result = summarise(PERIOD, patients, sessions, decisions, flags, {}, {p.id: at(13, 7) for p in patients},
                       now=NOW, tz=TZ, extras=extras)
    assert [(s.patient.id, s.attention) for s in result] == [
        (11, ("red_flag",)), (12, ("paused_severe",)), (13, ("question",)), (14, ("at_minimum",)), (15, ())]
    [message] = text.summary_messages(PERIOD, result, tz=TZ, scope_name="田中")
    assert "理由：危険サインの報告" in message and "理由：強い痛みが続き一時停止中" in message
    assert "理由：返信待ちのご質問 2件" in message and "理由：いちばん軽い運動量でも痛みが目安を超える" in message
    oto = text.patient_block(result[-1], TZ)
    assert "経過（はじめ→いま）：平均の痛み 6→4（−2.0・✔MCID）／PSFS 3.5→4.5（+1.0）／活動を減らした日 はじめ 3" \
        "／全般的変化 かなり良くなった・✔MCID" in oto
    assert "開始から：実施 9/12日・体験期間 残り7日" in oto
    assert "運動前後の痛みの変化：+1.3（3回の平均。プラス＝運動後に楽になった" in oto  # (4-1 + 3-2 + 3-3) / 3
    assert "今週上げた：回数" in oto
