"""Nicknames an attacker (or an unlucky patient) might choose, through Telegram end to end: the clinic's CSV
export never carries a live spreadsheet formula, and a nickname matplotlib would read as mathematics (`$\\x$`)
cannot sink a summary, /patient or the weekly summary (issue 13)."""

from __future__ import annotations

import csv
import io

from bot.reports.export import neutralise
from tests.e2e.test_clinicians import DOC, clinic, join  # noqa: F401  (clinic is a fixture)
from tests.e2e.test_journey import USER, enrol
from tests.e2e.test_method import day

FORMULAS = ["=1+2", "+cmd|'/C calc'!A0", "@SUM(1+1)", "-2+3"]


def export_rows(doc_msg) -> list[list[str]]:
    return list(csv.reader(io.StringIO(doc_msg.file_bytes.decode("utf-8-sig"))))


async def test_export_neutralises_formula_nicknames_and_keeps_numbers(clinic):  # noqa: F811
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
