"""inbox: updates committed before Telegram is told they arrived (issue 13: nothing a patient sends is lost)

Revision ID: 0007
Revises: 0006s
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006s'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
        sa.Column('update', sa.JSON(), nullable=True),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('update_id'),
    )
    op.create_index('ix_inbox_telegram_user_id', 'inbox', ['telegram_user_id'])
    op.create_index('ix_inbox_done_at', 'inbox', ['done_at'])


def downgrade() -> None:
    op.drop_index('ix_inbox_done_at', table_name='inbox')
    op.drop_index('ix_inbox_telegram_user_id', table_name='inbox')
    op.drop_table('inbox')
