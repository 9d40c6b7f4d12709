"""fall risk (issue 9): a fall in the last year and unsteadiness, asked at signup

Revision ID: 0008
Revises: 0009
Create Date: 2026-11-25

Either answer "yes" gives the patient the supported variant of every standing exercise and shows the clinician
the flag (docs/clinical.md, "Fall risk"). Patients enrolled before this migration were not asked: false.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (no batch copy of the table), so SQLite keeps the patient table's AUTOINCREMENT (0003)
    op.add_column('patient', sa.Column('falls_last_year', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('patient', sa.Column('unsteady', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('patient', table_kwargs={"sqlite_autoincrement": True}) as batch:  # keep 0003's
        batch.drop_column('unsteady')
        batch.drop_column('falls_last_year')
