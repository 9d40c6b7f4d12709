"""the milestones a patient has been congratulated on, each once (issue 10 §5, bot/coaching/progress.py)

Revision ID: 0012b
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012b'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('patient', sa.Column('milestones', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    op.drop_column('patient', 'milestones')
