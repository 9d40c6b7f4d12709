"""consent version (issue 13, APPI): the version of the consent text each patient agreed to

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25

Patients enrolled before this migration agreed to version 1 (the first consent text); the bot asks them
again for the current version (bot/coaching/consent.py) before it stores anything new about them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.add_column(sa.Column('consent_version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('consent_version')
