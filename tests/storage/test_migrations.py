"""Alembic is the only way the schema is made: the migrations run from an empty database give exactly the
tables of bot/storage/models.py, and a database created by the first migration, with data in it, upgrades
in place to the newest revision and keeps every row.

These are the only tests that migrate from nothing; every other test gets a copy of a database migrated
once per run (tests/databases.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, inspect, select, text

from bot.storage import outbox, patients
from bot.storage.db import Database
from bot.storage.models import ExerciseSession, Outbox, Patient

WHEN = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


async def test_migrations_from_nothing_give_exactly_the_models_schema(empty_database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    db = Database(empty_database_url)
    try:
        await db.migrate()
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata))
    finally:
        await db.dispose()
    assert differences == []


async def test_first_schema_with_data_upgrades_to_the_newest(empty_database_url):
    db = Database(empty_database_url)
    try:
        await db.migrate("0001")
        async with db.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO patient (telegram_user_id, chat_id, nickname, condition, usual_pain, timezone, "
                "exercise_time, morning_time, status, paused, unreachable, consent_at, enrolled_at, trial_ends_on, "
                "rom, reps, load, speed, raise_history) VALUES (77, 77, 'はなこ', 'knee', 4, 'Asia/Tokyo', "
                "'09:00', '07:00', 'trial', false, false, :w, :w, :d, 2, 3, 1, 1, '[\"rom\", \"reps\"]')"),
                {"w": WHEN, "d": date(2026, 11, 15)})
            pid = (await conn.execute(text("SELECT id FROM patient"))).scalar_one()
            await conn.execute(text(
                "INSERT INTO exercise_session (patient_id, local_date, planned_at, status, before, during, after, "
                "next_morning, flags, levels) VALUES (:p, :d, :w, 'done', 2, 3, 2, 1, '[]', '{\"rom\": 2}')"),
                {"p": pid, "d": date(2026, 11, 2), "w": WHEN})
            await conn.execute(text(
                "INSERT INTO outbox (kind, patient_id, chat_id, due_at, state, dedupe_key, payload, attempts, "
                "created_at) VALUES ('reminder', :p, 77, :w, 'pending', 'reminder:1:2026-11-03', "
                "'{\"day\": \"2026-11-03\"}', 0, :w)"), {"p": pid, "w": WHEN})

        await db.migrate()  # to the newest revision

        async with db.engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from bot.storage.db import MIGRATIONS

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        assert version == ScriptDirectory.from_config(cfg).get_current_head()
        assert {"patient", "exercise_session", "outbox", "decision", "prompt"} <= tables
        async with db.session() as s:
            p = await s.scalar(select(Patient))
            assert (p.nickname, p.rom, p.reps, p.raise_history) == ("はなこ", 2, 3, ["rom", "reps"])
            session = await s.scalar(select(ExerciseSession))
            assert (session.before, session.during, session.after, session.next_morning) == (2, 3, 2, 1)
            row = await s.scalar(select(Outbox))
            assert row.payload == {"day": "2026-11-03"} and row.due_at == WHEN
            # 0003b: the key's parts became columns, and the key is rebuilt from them as new rows' are
            assert (row.patient_id, row.local_date) == (p.id, date(2026, 11, 3))
            assert row.dedupe_key == outbox.dedupe_key("reminder", patient_id=p.id, local_date=date(2026, 11, 3))
            assert await s.scalar(select(func.count()).select_from(Patient)) == 1
        await db.migrate()  # idempotent

        # ids are never given again (0003): the newest patient erased, the next one gets a new id
        async with db.session() as s:
            old = await s.scalar(select(Patient))
            old_id = old.id
            assert await patients.erase(s, old.telegram_user_id, date(2026, 11, 5))
        async with db.session() as s:
            s.add(Patient(telegram_user_id=78, chat_id=78, nickname="たろう", condition="knee", usual_pain=2,
                          exercise_time="09:00", morning_time="07:00", consent_at=WHEN, enrolled_at=WHEN,
                          trial_ends_on=date(2026, 11, 15), raise_history=[]))
        async with db.session() as s:
            assert (await s.scalar(select(Patient))).id > old_id
    finally:
        await db.dispose()
