"""outbox: dedupe keys built from real columns; unique among live rows only (issue 12)

Revision ID: 0003b
Revises: 0003
Create Date: 2026-11-25

What a row is about becomes columns (clinician_id, telegram_user_id, local_date, variant, beside patient_id
and session_id), so rows are found by column, never by a LIKE on the key. Every existing key is rewritten
from those columns in the new format (bot/storage/outbox.py:dedupe_key, copied below as it is today), so
a row planned before the upgrade and the same row planned after it share one key. The unique constraint on
the key becomes a unique index on live (not cancelled) rows: a cancelled row no longer blocks planning the
same row again (it used to be revived in place).
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = '0003b'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("state != 'cancelled'")
KEY_COLUMNS = ("patient_id", "session_id", "clinician_id", "telegram_user_id", "local_date", "variant")
TAGS = dict(zip(KEY_COLUMNS, ("p", "s", "c", "u", "d", "v"), strict=True))


def _key(kind: str, columns: dict) -> str:
    parts = [f"{TAGS[c]}{columns[c].isoformat() if isinstance(columns[c], date) else columns[c]}"
             for c in KEY_COLUMNS if columns.get(c) is not None]
    return ":".join([kind, *parts])


def _columns(kind: str, old: str, payload: dict, trial_ends_on) -> dict:
    """The key columns a row's old key held (`reminder:<patient>:<day>:<time>`, `repeat:<session>:<n>` ...)."""
    parts = old.split(":")
    match kind:
        case "reminder":
            return {"local_date": date.fromisoformat(parts[2]), "variant": parts[3] if len(parts) > 3 else None}
        case "reminder_repeat":
            return {"variant": parts[2] if parts[0] == "repeat" else f"snooze{parts[2]}"}
        case "reminder_expire":
            return {"variant": parts[2] if len(parts) > 2 else None}
        case "trial_notice" | "trial_expire":
            return {"local_date": date.fromisoformat(parts[2]) if len(parts) > 2 else trial_ends_on}
        case "why":
            year, week = parts[2].split("-")
            return {"local_date": date.fromisocalendar(int(year), int(week), 1)}
        case "alert":
            event, scope = parts[2], parts[3]
            return {"variant": event if scope.startswith("s") else f"{event}@{scope}"}
        case "staff_notice":
            return {"telegram_user_id": int(parts[2]), "variant": f"{parts[1]}@{parts[3]}"}
        case "weekly_summary":
            return {"clinician_id": int(parts[1]), "local_date": date.fromisoformat(payload["end"])}
    return {}  # during/after/morning questions and rechecks: the session alone


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("outbox", naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as b:
        b.add_column(sa.Column("clinician_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("local_date", sa.Date(), nullable=True))
        b.add_column(sa.Column("variant", sa.String(length=40), nullable=True))
        b.drop_constraint("uq_outbox_dedupe_key" if sqlite else "outbox_dedupe_key_key", type_="unique")
    op.create_index("ix_outbox_telegram_user_id", "outbox", ["telegram_user_id"])

    conn = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                      sa.column("dedupe_key", sa.String), sa.column("payload", sa.JSON),
                      sa.column("patient_id", sa.Integer), sa.column("session_id", sa.Integer),
                      *(sa.column(c) for c in ("clinician_id", "telegram_user_id", "local_date", "variant")))
    patient = sa.table("patient", sa.column("id", sa.Integer), sa.column("trial_ends_on", sa.Date))
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.kind, outbox.c.dedupe_key, outbox.c.payload,
                                  outbox.c.patient_id, outbox.c.session_id, patient.c.trial_ends_on)
                        .select_from(outbox.outerjoin(patient, patient.c.id == outbox.c.patient_id))).all()
    updates = []
    for row_id, kind, old, payload, patient_id, session_id, trial_ends_on in rows:
        try:
            columns = _columns(kind, old, payload or {}, trial_ends_on)
        except (IndexError, ValueError, KeyError, TypeError):
            continue  # a key of a shape never written: left as it is
        columns = {"patient_id": patient_id, "session_id": session_id, **columns}
        updates.append({"rid": row_id, "new_key": _key(kind, columns),
                        **{c: columns.get(c) for c in ("clinician_id", "telegram_user_id", "local_date", "variant")}})
    if updates:
        conn.execute(outbox.update().where(outbox.c.id == sa.bindparam("rid")).values(
            dedupe_key=sa.bindparam("new_key"), clinician_id=sa.bindparam("clinician_id"),
            telegram_user_id=sa.bindparam("telegram_user_id"), local_date=sa.bindparam("local_date"),
            variant=sa.bindparam("variant")), updates)
    op.create_index("ux_outbox_dedupe_key_live", "outbox", ["dedupe_key"], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade() -> None:
    op.drop_index("ux_outbox_dedupe_key_live", table_name="outbox")
    op.drop_index("ix_outbox_telegram_user_id", table_name="outbox")
    op.execute("DELETE FROM outbox WHERE state = 'cancelled'")  # cancelled rows may share a key with a live one
    with op.batch_alter_table("outbox") as b:
        b.create_unique_constraint("outbox_dedupe_key_key", ["dedupe_key"])
        for column in ("variant", "local_date", "telegram_user_id", "clinician_id"):
            b.drop_column(column)
