"""LINE (issue 14): LINE users and their numbers, the month's pushes, pictures and files hosted for LINE

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-25

A LINE user gets a number above every Telegram id (bot/channels.py), so the tables keyed by a messenger's
user id serve both channels unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'line_user',
        sa.Column('id', sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column('line_user_id', sa.String(length=64), nullable=False, unique=True),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=False, unique=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('blocked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'line_usage',
        sa.Column('month', sa.String(length=7), primary_key=True),
        sa.Column('pushes', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('replies', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('held', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('warned', sa.Integer(), nullable=False, server_default='0'),
    )
    op.create_table(
        'hosted_media',
        sa.Column('token', sa.String(length=64), primary_key=True),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=False, index=True),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('file_name', sa.String(length=120), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table('hosted_media')
    op.drop_table('line_usage')
    op.drop_table('line_user')
