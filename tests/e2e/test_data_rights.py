"""APPI data rights over every table: /mydata exports and /delete erases every row about the patient in
every table that refers to a patient or a user (read from the schema, so a new table is covered or this
fails), and nothing about anyone else; the retention period erases ended patients' data by itself."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlmodel import SQLModel

from bot.coaching import patients as patient_state
from bot.coaching import retention
from bot.coaching.consent import CONSENT_VERSION
from bot.i18n import t
from bot.storage.models import Erasure, ExerciseSession, Patient, Signup
from bot.storage.patients import EXPORT_NAMES, FACT_TABLES, NOT_EXPORTED
from tests.helpers import USER, enrol
from tests.storage.every_table import PERSON_COLUMNS, about_a_person, check_every_table_has_rows, fill

OTHER = 5002


def person_tables():
    return [table for table in SQLModel.metadata.sorted_tables if about_a_person(table)]


async def patient_id(coach, user: int) -> int | None:
    async with coach.rt.db.session() as s:
        return await s.scalar(select(Patient.id).where(Patient.telegram_user_id == user))


async def rows_about(coach, table, user: int, pid: int | None) -> int:
    """Rows of `table` that name this user, by any person column or as the patient's id `pid`."""
    async with coach.rt.db.session() as s:
        clauses = [table.c[c] == user for c in PERSON_COLUMNS if c in table.c and c != "patient_id"]
        if "patient_id" in table.c and pid is not None:
            clauses.append(table.c.patient_id == pid)
        if table.name == "patient":
            clauses = [table.c.telegram_user_id == user]
        if table.name == "outbox":  # staff notices about their signup
            clauses.append(table.c.telegram_user_id == user)
        where = or_(*clauses)
        if table.name in FACT_TABLES:  # the fact of a clinic's action stays, emptied of its content
            where = where & ~table.c.erased
        return await s.scalar(select(func.count()).select_from(table).where(where))


async def test_mydata_and_delete_cover_every_table_about_the_patient(coach):
    async with coach.rt.db.session() as s:
        await fill(s, USER)
        await fill(s, OTHER, staff=False)
        await check_every_table_has_rows(s)
    tables = person_tables()
    assert {"patient", "signup", "exercise_session", "prompt", "decision", "red_flag_report", "outbox"} <= \
        {table.name for table in tables}
    pids = {user: await patient_id(coach, user) for user in (USER, OTHER)}
    for table in tables:
        assert await rows_about(coach, table, USER, pids[USER]) > 0, table.name

    [doc] = await coach.text(USER, "/mydata")
    data = json.loads(doc.file_bytes.decode("utf-8"))
    for table in tables:
        if table.name in NOT_EXPORTED:  # a copy of what the export holds (a chart kept for LINE)
            assert table.name not in data
            continue
        assert data[EXPORT_NAMES.get(table.name, table.name)], f"/mydata leaves out table {table.name}"
    assert data["patient"]["telegram_user_id"] == USER and len(data["red_flags"]) == 2
    assert all(f"name{OTHER}" not in json.dumps(rows, ensure_ascii=False) for rows in data.values())

    await coach.text(USER, "/delete")
    await coach.press(USER, t("button.delete_yes"))
    assert coach.last(USER) == t("delete.done")
    for table in tables:
        assert await rows_about(coach, table, USER, pids[USER]) == 0, f"/delete leaves rows in table {table.name}"
        assert await rows_about(coach, table, OTHER, pids[OTHER]) > 0, f"/delete took {table.name} rows of another"


async def test_the_consent_text_lists_the_data_and_its_version_is_stored(coach):
    [screen] = await coach.text(USER, "/trial")
    assert "ユーザーID・チャットID" in screen.body and "終わって 365日たつと、自動で削除します" in screen.body
    await enrol(coach)
    [p] = await coach.rows(Patient)
    assert p.consent_version == CONSENT_VERSION


async def test_ended_patients_are_erased_after_the_retention_period(coach):
    await enrol(coach)
    await enrol(coach, OTHER, nickname="たろう")  # continues after the trial: stays
    await coach.text(6003, "/trial")
    await coach.press(6003, t("button.consent"))  # an enrolment left unfinished
    pid, other = await patient_id(coach, USER), await patient_id(coach, OTHER)
    async with coach.rt.db.session() as s:
        assert await patient_state.end(s, coach.rt, await s.get(Patient, pid))
        assert await patient_state.continue_trial(s, coach.rt, await s.get(Patient, other))
    days = coach.rt.settings.retention_days_after_end
    assert days == 365

    await coach.travel(days=29)
    assert await retention.purge(coach.rt) == 0
    await coach.travel(days=2)  # the unfinished enrolment is 31 days old
    assert await retention.purge(coach.rt) == 1
    assert await coach.count(Signup) == 0 and await coach.count(Patient) == 2

    coach.clock.travel(timedelta(days=days + 14 - 31 - 1))  # the day before: the trial ended 14 days in
    assert await retention.purge(coach.rt) == 0 and await coach.count(Patient) == 2
    coach.clock.travel(timedelta(days=2))
    assert await retention.purge(coach.rt) == 1
    [left] = await coach.rows(Patient)
    assert left.telegram_user_id == OTHER
    for table in person_tables():
        assert await rows_about(coach, table, USER, pid) == 0, table.name
    assert sum(e.count for e in await coach.rows(Erasure)) == 2
    assert await retention.purge(coach.rt) == 0  # nothing twice


async def test_a_changed_consent_text_is_agreed_to_before_anything_new_is_stored(coach):
    await enrol(coach)
    async with coach.rt.db.session() as s:  # this patient agreed to the first consent text
        p = await s.scalar(select(Patient).where(Patient.telegram_user_id == USER))
        p.consent_version = 1
    await coach.travel(hours=1)  # 09:00: the reminder still comes
    again = t("consent.again", what=t("consent.what", days=365))

    [screen] = await coach.press(USER, t("button.start_now"))
    assert screen.body == again
    assert screen.button_texts == [t("button.consent_again"), t("button.decline")]
    [session] = await coach.rows(ExerciseSession)
    assert session.status == "planned" and session.started_at is None  # nothing stored
    assert [m.body for m in await coach.text(USER, "5")] == [again]
    assert (await coach.text(USER, "/privacy"))[0].body == t("privacy.promise", days=365)
    [doc] = await coach.text(USER, "/mydata")  # reading stays open
    assert doc.kind == "document"

    [declined] = await coach.press(USER, t("button.decline"))
    assert declined.body == t("consent.declined")
    assert declined.button_texts == [t("button.consent_again"), t("button.delete_yes")]
    [p] = await coach.rows(Patient)
    assert p.consent_version == 1

    [agreed] = await coach.press(USER, t("button.consent_again"))
    assert agreed.body == t("consent.agreed")
    [p] = await coach.rows(Patient)
    assert p.consent_version == CONSENT_VERSION and p.consent_at == coach.clock.now()
    await coach.press(USER, t("button.start_now"))
    assert "始める前" in coach.last(USER)
    [session] = await coach.rows(ExerciseSession)
    assert session.status == "started"


async def test_declining_a_changed_consent_text_can_end_in_erasure(coach):
    await enrol(coach)
    async with coach.rt.db.session() as s:
        p = await s.scalar(select(Patient).where(Patient.telegram_user_id == USER))
        p.consent_version = 1
    await coach.text(USER, "/today")
    await coach.press(USER, t("button.decline"))
    await coach.press(USER, t("button.delete_yes"))
    assert coach.last(USER) == t("delete.done")
    assert await coach.count(Patient) == 0
