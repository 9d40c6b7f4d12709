"""`python -m bot backup`: a copy taken while the bot has the database open holds every row of every table,
and opens as a working database; it is readable by its owner only and never overwrites a file."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from bot.storage.db import Database
from bot.storage.models import Patient
from tests.storage.every_table import check_every_table_has_rows, fill


def run_backup(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return subprocess.run([sys.executable, "-m", "bot", "backup", *args], cwd=cwd, capture_output=True, text=True,
                          env={**env, "DATABASE_URL": database_url}, timeout=120, stdin=subprocess.DEVNULL)


def all_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {table.name: conn.execute(f'SELECT * FROM "{table.name}" ORDER BY 1').fetchall()
            for table in SQLModel.metadata.sorted_tables}


async def test_sqlite_backup_while_the_bot_writes_holds_every_row(sqlite_url, tmp_path):
    db = Database(sqlite_url)
    try:
        async with db.session() as s:
            await fill(s, 5001)
            await fill(s, 5002, staff=False)
            await check_every_table_has_rows(s)
        source = sqlite_url.split("///", 1)[1]
        with sqlite3.connect(source) as conn:
            before = all_rows(conn)
        async with db.session() as s:  # the bot is in the middle of a write: not committed, not in the copy
            await s.execute(text("UPDATE patient SET nickname = 'uncommitted'"))
            result = await asyncio.to_thread(run_backup, sqlite_url, tmp_path, "copy.db")
            await s.rollback()
    finally:
        await db.dispose()
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "copy.db"
    assert "backup written: copy.db" in result.stdout and "tables" in result.stdout
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as conn:
        assert all_rows(conn) == before  # every row of every table
    restored = Database(f"sqlite+aiosqlite:///{copy}")  # restore = use the copy as the database
    try:
        await restored.migrate()  # at the newest schema already: nothing to do
        async with restored.session() as s:
            assert sorted((await s.scalars(select(Patient.nickname))).all()) == ["name5001", "name5002"]
    finally:
        await restored.dispose()

    again = run_backup(sqlite_url, tmp_path, "copy.db")
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "already exists" in again.stderr


def test_backup_of_a_missing_sqlite_file_is_one_line(tmp_path):
    result = run_backup(f"sqlite+aiosqlite:///{tmp_path / 'none.db'}", tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "no SQLite database" in result.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="no pg_dump/pg_restore")
async def test_postgres_backup_restores_every_row(postgres_run, tmp_path):
    if postgres_run.problem:
        pytest.skip(postgres_run.problem)
    url, fresh = await postgres_run.emptied(), await postgres_run.fresh()
    db = Database(url)
    try:
        async with db.session() as s:
            await fill(s, 5001)
            await check_every_table_has_rows(s)
            before = {t.name: (await s.execute(t.select().order_by(*t.primary_key.columns))).all()
                      for t in SQLModel.metadata.sorted_tables}
    finally:
        await db.dispose()
    result = await asyncio.to_thread(run_backup, url, tmp_path, "coach.dump")
    assert result.returncode == 0, result.stderr
    assert "pg_restore" in result.stdout and stat.S_IMODE((tmp_path / "coach.dump").stat().st_mode) == 0o600
    from sqlalchemy.engine import make_url

    target = make_url(fresh)
    command = ["pg_restore", "--no-owner", "-h", target.host, "-p", str(target.port or 5432), "-U", target.username,
               "-d", target.database, str(tmp_path / "coach.dump")]
    restore = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120)
    assert restore.returncode == 0, restore.stderr
    restored = Database(fresh)
    try:
        async with restored.session() as s:
            after = {t.name: (await s.execute(t.select().order_by(*t.primary_key.columns))).all()
                     for t in SQLModel.metadata.sorted_tables}
    finally:
        await restored.dispose()
    assert after == before


def test_postgres_without_pg_dump_prints_how_to_back_up_and_restore(tmp_path):
    env = {"DATABASE_URL": "postgresql+asyncpg://coach:pw-secret@db.internal/coach", "PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "bot", "backup", "nightly.dump"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "pg_dump -Fc --file nightly.dump 'postgresql://coach@db.internal/coach'" in result.stderr
    assert "pg_restore" in result.stderr and "pw-secret" not in result.stderr + result.stdout
