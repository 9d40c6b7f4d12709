"""pictures: Telegram's file ids for exercise pictures, and which exercises' pictures a patient was sent (issue 9)

Revision ID: 0009
Revises: 0012b
Create Date: 2026-11-25

`media_file`: a messenger's id for a picture it already has (Telegram's file_id after the first upload), keyed
by the picture's stable id and its content's hash (bot/media.py).
`patient.exercises_shown`: the exercises whose picture the patient has been sent (bot/coaching/pictures.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0012b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('media_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('picture_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'picture_id', 'content_hash'),
    )
    # a plain ADD COLUMN: a batch copy of `patient` on SQLite would drop its AUTOINCREMENT (ids never reused)
    op.add_column('patient', sa.Column('exercises_shown', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('exercises_shown')
    op.drop_table('media_file')
