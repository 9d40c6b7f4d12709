"""Clinicians and admins through Telegram: invites, roles and refusals, alerts to the patient's clinician,
the weekly summary exactly once across restarts, /patients, /patient, /export, and staff notices."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from bot.i18n import t
from bot.storage.models import Clinician, Decision, ExerciseSession, Outbox, Patient
from tests.e2e.conftest import ADMIN  # the admin of the `clinic` fixture
from tests.harness import Coach
from tests.helpers import USER, day, enrol, press_sign

DOC = 7001  # a clinician
DOC2 = 7002  # another clinician
STRANGER = 4242
REFUSED = t("clinic.refused")
# Monday 2026-12-07 08:00 Tokyo: the first weekly summary after START (Tuesday 12-01 08:00)
MONDAY_0800 = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)


async def invite(coach) -> str:
    await coach.text(ADMIN, "/invite")
    return re.search(r"招待コード：(\w+)", coach.last(ADMIN)).group(1)


async def join(coach, user: int = DOC, name: str = "田中") -> str:
    code = await invite(coach)
    await coach.text(user, f"/clinician {code}", first_name=name)
    assert "担当医療者として登録しました" in coach.last(user)
    return code


async def enrol_via_link(coach, user: int, link_code: str, nickname: str) -> None:
    """A patient who opened the clinician's invite link (t.me/<bot>?start=c_<code>)."""
    await coach.text(user, f"/start c_{link_code}")
    await coach.press(user, "体験を申し込む")
    await coach.press(user, "同意して始める")
    await coach.press(user, "腰痛")
    await coach.text(user, "3")
    await coach.press(user, "いいえ")  # no fall in the last year
    await coach.press(user, "いいえ")  # not unsteady
    await coach.press(user, "どれも当てはまらない")
    await coach.press(user, "どれも当てはまらない")  # the guideline screen
    await coach.text(user, "09:00")
    await coach.press(user, "07:00")
    await coach.text(user, nickname)
    await coach.press(user, "この内容で始める")


def texts(coach, chat: int) -> list[str]:
    return [m.body or "" for m in coach.standin.messages(chat)]


# --- roles and invites ---------------------------------------------------------------------------------

async def test_an_invite_is_single_use_and_expires(clinic):
    code = await join(clinic)
    [doc] = await clinic.rows(Clinician)
    assert (doc.telegram_user_id, doc.name, doc.removed_at) == (DOC, "田中", None)
    assert "https://t.me/" in clinic.last(DOC) and f"?start=c_{doc.link_code}" in clinic.last(DOC)
    # used once: nobody else can use it
    await clinic.text(DOC2, f"/clinician {code}")
    assert clinic.last(DOC2) == t("clinic.join.invalid")
    # a fresh code expires after INVITE_VALID_HOURS (72)
    late = await invite(clinic)
    await clinic.travel(hours=72)
    await clinic.text(DOC2, f"/clinician {late}")
    assert clinic.last(DOC2) == t("clinic.join.invalid")
    assert await clinic.count(Clinician) == 1
    # the first weekly summary is scheduled at once: Monday 08:00 Tokyo
    [row] = await clinic.rows(Outbox, Outbox.kind == "weekly_summary")
    assert row.due_at == MONDAY_0800 and (row.clinician_id, row.local_date.strftime("%G-%V")) == (doc.id, "2026-49")


async def test_admins_list_and_remove_clinicians_and_assign_patients(clinic):
    await join(clinic, DOC, "田中")
    await join(clinic, DOC2, "佐藤")
    await enrol(clinic)  # two clinicians, no DEFAULT_CLINICIAN_ID, no link: unassigned
    [p] = await clinic.rows(Patient)
    assert p.clinician_id is None
    await clinic.text(ADMIN, "/clinicians")
    listing = clinic.last(ADMIN)
    assert "担当医療者（2人）・未割当の患者 1人" in listing and "田中" in listing and "佐藤" in listing
    [doc2] = await clinic.rows(Clinician, Clinician.telegram_user_id == DOC2)
    await clinic.text(ADMIN, f"/assign {p.id} {doc2.id}")
    assert "佐藤さん" in clinic.last(ADMIN)
    assert (await clinic.rows(Patient))[0].clinician_id == doc2.id
    await clinic.text(ADMIN, f"/remove_clinician {doc2.id}")
    assert "患者 1人は未割当" in clinic.last(ADMIN)
    assert (await clinic.rows(Patient))[0].clinician_id is None
    [summary] = await clinic.rows(Outbox, Outbox.kind == "weekly_summary", Outbox.chat_id == DOC2)
    assert summary.state == "cancelled"
    # a removed clinician sees nothing any more
    await clinic.text(DOC2, "/patients")
    assert clinic.last(DOC2) == REFUSED
    await clinic.text(ADMIN, "/assign 999 1")
    assert clinic.last(ADMIN) == t("admin.not_found")


CLINICIAN_COMMANDS = ["/summary", "/summary 先週", "/patients", "/patient 1", "/export"]
ADMIN_COMMANDS = ["/invite", "/clinicians", "/remove_clinician 1", "/assign 1 1"]


async def test_every_clinician_and_admin_command_is_refused_the_same_way(clinic):
    await join(clinic)
    await enrol(clinic)  # patient 1, assigned to the only clinician
    for user, commands in ((USER, CLINICIAN_COMMANDS + ADMIN_COMMANDS),
                           (STRANGER, CLINICIAN_COMMANDS + ADMIN_COMMANDS),
                           (DOC, ADMIN_COMMANDS)):
        for command in commands:
            replies = await clinic.text(user, command)
            assert [(m.kind, m.body, m.buttons) for m in replies] == [("text", REFUSED, [])], (user, command)
    # the open-detail button, pressed by someone not allowed: the same words, nothing else sent
    for user in (USER, STRANGER):
        replies = await clinic.press_raw(user, "cp:1", message_id=1)
        assert replies == [] and clinic.standin.callback_answers[-1][1] == REFUSED
    assert await clinic.count(Clinician) == 1 and await clinic.count(Patient) == 1


async def test_another_clinicians_patient_is_refused_exactly_like_a_missing_one(clinic):
    await join(clinic, DOC, "田中")
    await join(clinic, DOC2, "佐藤")
    [doc] = await clinic.rows(Clinician, Clinician.telegram_user_id == DOC)
    await enrol_via_link(clinic, USER, doc.link_code, "はなこ")
    [p] = await clinic.rows(Patient)
    assert p.clinician_id == doc.id  # assigned by the invite link
    other = await clinic.text(DOC2, f"/patient {p.id}")
    missing = await clinic.text(DOC2, "/patient 999")
    assert [m.body for m in other] == [m.body for m in missing] == [REFUSED]
    await clinic.press_raw(DOC2, f"cp:{p.id}", message_id=1)
    assert clinic.standin.callback_answers[-1][1] == REFUSED
    # the patient's own clinician and the admin see the detail and the chart
    for user in (DOC, ADMIN):
        replies = await clinic.text(user, f"/patient {p.id}")
        assert [m.kind for m in replies] == ["text", "photo", "text"]  # the detail, the chart, the card's controls
        assert "はなこさん（患者ID" in replies[0].body and "担当：田中" in replies[0].body
        assert replies[1].file_bytes.startswith(b"\x89PNG")
    # and /patients lists them only for their clinician (and the admin)
    await clinic.text(DOC2, "/patients")
    assert clinic.last(DOC2) == t("report.list.empty")
    await clinic.text(DOC, "/patients")
    assert "はなこさん" in clinic.last(DOC)


# --- alerts ------------------------------------------------------------------------------------------

async def test_a_severe_pain_stop_alerts_the_clinician_within_a_minute(clinic):
    await join(clinic)
    await enrol(clinic)
    await clinic.travel(hours=1)
    await clinic.press(USER, "今から始める")
    await clinic.press(USER, "2")
    await clinic.press(USER, "1つ目が終わった")
    await clinic.press(USER, "8")  # severe pain: stop
    await clinic.travel(seconds=1)  # the next delivery tick
    [alert] = await clinic.rows(Outbox, Outbox.kind == "alert")
    assert alert.state == "sent" and alert.sent_at - alert.created_at <= timedelta(minutes=1)
    msg = clinic.standin.last_message(DOC)
    assert "【要確認】はなこさん" in msg.body and "強い痛み（7以上）" in msg.body
    assert msg.buttons == [[("対応しました", f"ak:{alert.id}")], [("詳細を見る", f"cp:{alert.patient_id}")]]
    assert not any("要確認" in b for b in texts(clinic, ADMIN))  # not to the admins: the patient has a clinician
    replies = await clinic.press(DOC, "詳細を見る")
    assert [m.kind for m in replies] == ["text", "photo", "text"] and "はなこさん（患者ID" in replies[0].body
    assert "中止（強い痛み）" in replies[0].body


async def test_an_urgent_red_flag_is_marked_urgent(clinic):
    await join(clinic)
    await enrol(clinic)
    await clinic.text(USER, "/symptom")
    await press_sign(clinic, "bladder_bowel")
    await clinic.travel(seconds=1)
    body = clinic.standin.last_message(DOC).body
    assert body.startswith("【至急】はなこさん") and t("flag.bladder_bowel") in body


async def test_an_unassigned_patients_alert_goes_to_the_admins(clinic):
    await enrol(clinic)  # no clinician at all
    await clinic.text(USER, "/symptom")
    await press_sign(clinic, "swelling")
    await clinic.travel(seconds=1)
    assert "【要確認】はなこさん" in clinic.last(ADMIN)


# --- weekly summary ----------------------------------------------------------------------------------

def summaries(coach) -> list[str]:
    return [b for b in texts(coach, DOC) if b.startswith("【週次サマリー】")]


async def test_weekly_summary_is_sent_once_across_restarts(standin, database_url, coach_start):
    first = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN]).start()
    await join(first)
    await enrol(first)
    await day(first, 2, 2, 1, 2)  # Tue 12/01
    await day(first, 2, 5, 3, 2)  # Wed: pain during 5 -> step back at level 1 (alert)
    await day(first, 2, 2, 1, 2)  # Thu
    await first.travel_to(MONDAY_0800 - timedelta(minutes=1))
    assert summaries(first) == []
    await first.stop()

    second = Coach(standin, database_url, MONDAY_0800 + timedelta(minutes=2), admin_telegram_ids=[ADMIN])
    await second.start()
    try:
        await second.runner.run_until_idle()
        [text] = summaries(second)
        assert text.startswith("【週次サマリー】11/30(月)〜12/6(日)\n担当：田中　患者 1人")
        assert "はなこさん" in text and "実施 3/" in text
        sent = [m for m in standin.messages(DOC) if m.kind == "photo"]
        assert len(sent) == 2 and all(m.file_bytes.startswith(b"\x89PNG") for m in sent)  # overview + はなこ
    finally:
        await second.stop()

    third = Coach(standin, database_url, MONDAY_0800 + timedelta(minutes=5), admin_telegram_ids=[ADMIN])
    await third.start()
    try:
        await third.runner.run_until_idle()
        await third.travel(hours=1)
        assert len(summaries(third)) == 1
        rows = await third.rows(Outbox, Outbox.kind == "weekly_summary")
        assert sorted((r.state, r.local_date.strftime("%G-%V")) for r in rows) == \
            [("pending", "2026-50"), ("sent", "2026-49")]
        await third.travel(days=7)  # next Monday: the next week's summary, once
        assert len(summaries(third)) == 2
    finally:
        await third.stop()


async def test_summary_on_demand_for_this_or_a_chosen_week(clinic):
    await join(clinic)
    await enrol(clinic)
    await day(clinic, 2, 2, 1, 2)
    replies = await clinic.text(DOC, "/summary")
    assert replies[0].body.startswith("【週次サマリー】11/30(月)〜12/6(日)") and replies[1].kind == "photo"
    replies = await clinic.text(DOC, "/summary 2026-W50")
    assert replies[0].body.startswith("【週次サマリー】12/7(月)〜12/13(日)")
    replies = await clinic.text(DOC, "/summary いつか")
    assert [m.body for m in replies] == [t("clinic.summary.usage")]
    replies = await clinic.text(ADMIN, "/summary")  # the admin: every patient
    assert "全患者（管理者表示）" in replies[0].body


# --- export ------------------------------------------------------------------------------------------

async def test_export_is_a_csv_excel_reads_in_japanese(clinic):
    await join(clinic)
    await enrol(clinic)
    await day(clinic, 2, 2, 1, 2)
    await day(clinic, 2, 3, 2, 1)
    [doc_msg] = await clinic.text(DOC, "/export")
    assert doc_msg.kind == "document" and doc_msg.file_name.endswith(".csv")
    assert doc_msg.file_bytes.startswith(b"\xef\xbb\xbf")  # the BOM
    rows = list(csv.reader(io.StringIO(doc_msg.file_bytes.decode("utf-8-sig"))))
    assert rows[0] == t("clinic.export.header").split(",")
    records = [r for r in rows[1:] if r[0] == "記録"]
    decisions = [r for r in rows[1:] if r[0] == "判断"]
    assert [(r[2], r[3], r[5], r[6], r[7], r[8], r[9]) for r in records] == [
        ("はなこ", "2026-12-01", "実施", "2", "2", "1", "2"),
        ("はなこ", "2026-12-02", "実施", "2", "3", "2", "1"),
    ]
    assert len(decisions) == await clinic.count(Decision)
    raised = [r for r in decisions if r[11] == "上げる"]
    assert len(raised) == 1 and raised[0][12] == "動かす範囲" and raised[0][13] == "limits_met"
    assert await clinic.count(ExerciseSession) == 2


# --- staff notices -----------------------------------------------------------------------------------

async def test_trial_signups_are_announced_to_the_staff_chat(standin, database_url, coach_start):
    staff = -1001234
    coach = await Coach(standin, database_url, coach_start, admin_telegram_ids=[ADMIN], staff_chat_id=staff).start()
    try:
        await enrol(coach)
        await coach.text(5002, "/trial")
        await coach.press(5002, "同意して始める")
        await coach.press(5002, "膝痛")
        await coach.text(5002, "4")
        await coach.press(5002, "いいえ")  # no fall in the last year
        await coach.press(5002, "いいえ")  # not unsteady
        await coach.press(5002, "当てはまるものがある")
        await press_sign(coach, "swelling", 5002)
        await coach.travel(seconds=1)
        notices = texts(coach, staff)
        assert notices[0].startswith("【体験申込】はなこさん") and notices[1].startswith("【体験申込・受診案内】")
        assert texts(coach, ADMIN) == []  # the staff chat replaces the admins
    finally:
        await coach.stop()


async def test_command_menus_follow_the_role(clinic):
    """Patients see their commands; a clinician's chat gets theirs on joining (admins at start-up), and
    loses them when removed."""
    def names(scope: str = "default") -> list[str]:
        return [name for name, _ in clinic.standin.commands_for(scope)]

    assert names()[:3] == ["start", "trial", "today"] and "summary" not in names()
    assert names(f"chat:{ADMIN}")[:4] == ["summary", "patients", "patient", "export"]
    assert "invite" in names(f"chat:{ADMIN}") and "trial" in names(f"chat:{ADMIN}")
    await join(clinic)
    assert names(f"chat:{DOC}")[:4] == ["summary", "patients", "patient", "export"]
    assert "invite" not in names(f"chat:{DOC}")
    assert all(description for _, description in clinic.standin.commands_for(f"chat:{DOC}"))
    [doc] = await clinic.rows(Clinician)
    await clinic.text(ADMIN, f"/remove_clinician {doc.id}")
    assert names(f"chat:{DOC}") == []
