"""/export: every rating, decision and clinician control (the audit log) of a clinician's patients as one CSV file
(docs/clinicians.md, "Export").

Cells are written for spreadsheets: a text cell that a spreadsheet would read as a formula (a nickname
such as `=1+2`) is neutralised; numeric columns (ids, ratings) stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import controls
from bot.i18n import t
from bot.reports.summary import DecisionRow, Period, SessionRow
from bot.runtime import Runtime
from bot.storage import audit
from bot.storage import outcomes as outcome_reads
from bot.storage import reports as reads
from rules import load_program
from rules.outcomes import instrument

NO_OUTCOME = ("", "", "")  # 評価, 時点, 得点: filled on outcome rows only
NO_CONTROL = ("", "", "")  # 操作者, 変更前, 変更後: filled on control rows only
EXPORT_CHUNK = 5000  # patient ids per IN (...) query


# A text cell starting with one of these is read as a formula by Excel / LibreOffice / Google Sheets
# (OWASP "CSV injection"); the full-width forms are included because Japanese input produces them.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
Cell = str | int


def neutralise(cell: Cell | None) -> Cell:
    """A cell as written: numbers stay numbers, None is empty, and a text cell a spreadsheet would run as a
    formula gets a leading single quote (shown as text, never evaluated)."""
    if cell is None:
        return ""
    if isinstance(cell, int):
        return cell
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


class SafeWriter:
    """csv.writer whose every row goes through neutralise(): the one way export rows are written."""

    def __init__(self, buf: io.StringIO) -> None:
        self._out = csv.writer(buf, lineterminator="\r\n")

    def writerow(self, row: Sequence[Cell | None]) -> None:
        self._out.writerow([neutralise(cell) for cell in row])


async def export_csv(s: AsyncSession, rt: Runtime, scope: int | None) -> bytes:
    """Every rating (one row per session), every decision and every outcome score of these patients, as CSV in
    UTF-8 with a BOM (Excel opens Japanese correctly), CRLF line ends. Columns: clinic.export.header."""
    tz = rt.settings.clinic_timezone
    zone = ZoneInfo(tz)
    patients = await reads.patient_rows(s, scope, enrolled_only=False)
    info = {row[0]: (row[1], row[2]) for row in patients}
    ids = list(info)
    buf = io.StringIO()
    out = SafeWriter(buf)
    out.writerow(t("clinic.export.header").split(","))
    session_kind, decision_kind = t("clinic.export.kind.session"), t("clinic.export.kind.decision")
    outcome_kind = t("clinic.export.kind.outcome")
    control_kind = t("clinic.export.kind.control")
    first, last = date(2000, 1, 1), date(2999, 12, 31)
    lo, hi = Period(first, last).bounds(tz)
    for i in range(0, len(ids), EXPORT_CHUNK):
        chunk = ids[i:i + EXPORT_CHUNK]
        for r in await reads.session_rows(s, None, first, last, ids=chunk):
            row = SessionRow(*r)
            out.writerow([session_kind, row.patient_id, info[row.patient_id][0], row.day.isoformat(), "",
                          t(f"report.session.{row.status}"), row.before, row.during, row.after,
                          row.next_morning, row.recheck, "", "", "", "", *NO_OUTCOME, *NO_CONTROL])
        for r in await reads.decision_rows(s, None, lo, hi, ids=chunk, notable_only=False):
            d = DecisionRow.from_tuple(r)
            local = d.at.astimezone(zone)
            element = load_program(info[d.patient_id][1]).element_name(d.element) if d.element else ""
            out.writerow([decision_kind, d.patient_id, info[d.patient_id][0], local.date().isoformat(),
                          local.strftime("%H:%M"), "", "", "", "", "", "", t(f"clinic.export.action.{d.action}"),
                          element, " ".join(d.reasons), t(f"rating.{d.stage}") if d.stage != "checkin"
                          else t("clinic.export.stage.checkin"), *NO_OUTCOME, *NO_CONTROL])
        for pid, scores in (await outcome_reads.scores(s, chunk)).items():
            for x in scores:
                local = x.at.astimezone(zone)
                ins = instrument(x.instrument)
                out.writerow([outcome_kind, pid, info[pid][0], local.date().isoformat(), local.strftime("%H:%M"),
                              *[""] * 10, ins.short if ins else x.instrument, t(f"clinic.export.occasion.{x.occasion}"),
                              f"{x.score:g}", *NO_CONTROL])
        for e in await audit.rows_for(s, chunk):  # the clinician controls (issue 10): who, when, before -> after
            local = e.at.astimezone(zone)
            condition = info[e.patient_id][1]
            out.writerow([control_kind, e.patient_id, info[e.patient_id][0], local.date().isoformat(),
                          local.strftime("%H:%M"), "", "", "", "", "", "", t(f"control.action.{e.action}"), "", "",
                          "", *NO_OUTCOME, e.actor_name, controls.shown(rt, condition, e.action, e.before),
                          controls.shown(rt, condition, e.action, e.after)])
    return buf.getvalue().encode("utf-8-sig")
