"""Nicknames an attacker (or an unlucky patient) might choose, through Telegram end to end: the clinic's CSV
export never carries a live spreadsheet formula, and a nickname matplotlib would read as mathematics (`$\\x$`)
cannot sink a summary, /patient or the weekly summary (issue 13)."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

from bot.delivery.runner import MAX_ATTEMPTS
from bot.reports import build, charts
from bot.reports.export import neutralise
from bot.storage.models import Outbox
from tests.e2e.test_clinicians import DOC, MONDAY_0800, join  # the `clinic` fixture: tests/e2e/conftest.py
from tests.helpers import USER, day, enrol

FORMULAS = ["=1+2", "+cmd|'/C calc'!A0", "@SUM(1+1)", "-2+3"]


def export_rows(doc_msg) -> list[list[str]]:
    return list(csv.reader(io.StringIO(doc_msg.file_bytes.decode("utf-8-sig"))))


async def test_export_neutralises_formula_nicknames_and_keeps_numbers(clinic):
    await join(clinic)
    await enrol(clinic, USER, nickname=FORMULAS[0])
    for i, name in enumerate(FORMULAS[1:], start=1):
        await enrol(clinic, USER + i, nickname=name)
    await day(clinic, 2, 2, 1, 2)  # USER (=1+2) has a session with ratings, and decisions
    [doc_msg] = await clinic.text(DOC, "/export")
    rows = export_rows(doc_msg)[1:]
    records = [r for r in rows if r[0] == "記録"]
    decisions = [r for r in rows if r[0] == "判断"]
    assert records and decisions
    # every nickname cell is shown as text: a leading quote, never a formula
    assert {r[2] for r in rows} <= {f"'{name}" for name in FORMULAS}
    assert not [cell for r in rows for cell in r if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # numbers stay numbers: the patient id and the ratings, unquoted in the file
    [record] = [r for r in records if r[5] == "実施"]
    assert (record[1], record[6], record[7], record[8], record[9], record[10]) == ("1", "2", "2", "1", "2", "")
    raw = doc_msg.file_bytes.decode("utf-8-sig")
    assert ",1,'=1+2,2026-12-01,,実施,2,2,1,2,,,,," in raw


def test_neutralise_covers_owasp_starts_and_leaves_the_rest():
    for text in ["=1+2", "+1", "-2+3", "@SUM(1+1)", "\t=1", "\r=1", "＝1+2"]:
        assert neutralise(text) == f"'{text}"
    for text in ["はなこ", "a=1", "1-2", "", "2026-12-01"]:
        assert neutralise(text) == text
    assert neutralise(-3) == -3 and neutralise(None) == ""


# --- a nickname matplotlib would read as mathematics ----------------------------------------------------

MATH = "$\\x$"


def photos(coach, chat: int) -> list:
    return [m for m in coach.standin.messages(chat) if m.kind == "photo"]


async def _patient_with_a_week(coach) -> None:
    await join(coach)
    await enrol(coach, USER, nickname=MATH)
    await day(coach, 2, 2, 1, 2)
    await day(coach, 2, 3, 2, 1)


async def test_math_nickname_summary_and_patient_are_sent_with_their_charts(clinic):
    await _patient_with_a_week(clinic)
    replies = await clinic.text(DOC, "/summary")
    assert f"{MATH}さん" in replies[0].body
    charts_sent = [m for m in replies if m.kind == "photo"]
    assert len(charts_sent) == 2 and all(m.file_bytes.startswith(b"\x89PNG") for m in charts_sent)
    assert MATH in charts_sent[1].caption  # the patient's chart, captioned with the nickname as typed
    replies = await clinic.text(DOC, "/patient 1")
    assert [m.kind for m in replies] == ["text", "photo", "text"] and MATH in replies[0].body  # detail, chart, card


async def test_math_nickname_weekly_summary_goes_out_and_the_next_is_scheduled(clinic):
    await _patient_with_a_week(clinic)
    await clinic.travel_to(MONDAY_0800 + timedelta(minutes=1))
    [summary] = [m for m in clinic.standin.messages(DOC) if m.body and m.body.startswith("【週次サマリー】")]
    assert f"{MATH}さん" in summary.body and len(photos(clinic, DOC)) == 2
    rows = await clinic.rows(Outbox, Outbox.kind == "weekly_summary")
    assert sorted((r.state, r.local_date.strftime("%G-%V")) for r in rows) == \
        [("pending", "2026-50"), ("sent", "2026-49")]


async def test_a_chart_that_cannot_be_drawn_is_left_out_and_logged_without_the_nickname(
        clinic, monkeypatch, caplog):
    await _patient_with_a_week(clinic)

    def broken(nickname, *args, **kwargs):
        raise ValueError(f"cannot draw {nickname}")

    monkeypatch.setattr(charts, "patient_chart", broken)
    with caplog.at_level(logging.WARNING):
        replies = await clinic.text(DOC, "/summary")
        assert f"{MATH}さん" in replies[0].body
        assert [m.kind for m in replies if m.kind == "photo"] == ["photo"]  # the overview; not the broken one
        replies = await clinic.text(DOC, "/patient 1")
        assert [m.kind for m in replies] == ["text", "text"] and MATH in replies[0].body  # detail, card; no chart
        await clinic.travel_to(MONDAY_0800 + timedelta(minutes=1))
    weekly = [m for m in clinic.standin.messages(DOC) if m.body and m.body.startswith("【週次サマリー】")]
    assert len(weekly) == 2  # /summary's, and the weekly one
    failures = [r for r in caplog.records if "could not be drawn" in r.getMessage()]
    assert len(failures) == 3  # /summary, /patient, the weekly summary
    assert all("patient 1" in r.getMessage() and "ValueError" in r.getMessage() for r in failures)
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert MATH not in logged and "cannot draw" not in logged


async def test_a_weekly_summary_that_fails_is_retried_and_the_next_one_is_already_scheduled(
        clinic, monkeypatch):
    await _patient_with_a_week(clinic)
    real = build.summary_replies
    calls = []

    async def failing(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(build, "summary_replies", failing)
    await clinic.travel_to(MONDAY_0800 + timedelta(minutes=1))
    assert len(calls) == 1 and photos(clinic, DOC) == []
    rows = {r.local_date.strftime("%G-%V"): r for r in await clinic.rows(Outbox, Outbox.kind == "weekly_summary")}
    assert rows["2026-50"].state == "pending"  # next week's: scheduled although this one failed
    assert (rows["2026-49"].state, rows["2026-49"].attempts) == ("pending", 1)  # to be retried
    monkeypatch.setattr(build, "summary_replies", real)
    await clinic.travel(minutes=1)  # after the first back-off (5 s)
    weekly = [m for m in clinic.standin.messages(DOC) if m.body and m.body.startswith("【週次サマリー】")]
    assert len(weekly) == 1 and len(photos(clinic, DOC)) == 2
    rows = await clinic.rows(Outbox, Outbox.kind == "weekly_summary")
    assert sorted((r.state, r.local_date.strftime("%G-%V")) for r in rows) == \
        [("pending", "2026-50"), ("sent", "2026-49")]


async def test_retries_of_a_failing_weekly_summary_are_bounded(clinic, monkeypatch):
    await join(clinic)

    async def failing(*args, **kwargs):
        raise RuntimeError("always")

    monkeypatch.setattr(build, "summary_replies", failing)
    await clinic.travel_to(MONDAY_0800 + timedelta(minutes=1))
    for _ in range(MAX_ATTEMPTS + 2):
        await clinic.travel(minutes=15)  # past every back-off (at most 10 min)
    rows = {r.local_date.strftime("%G-%V"): r for r in await clinic.rows(Outbox, Outbox.kind == "weekly_summary")}
    assert (rows["2026-49"].state, rows["2026-49"].attempts) == ("failed", MAX_ATTEMPTS)
    assert rows["2026-50"].state == "pending"
