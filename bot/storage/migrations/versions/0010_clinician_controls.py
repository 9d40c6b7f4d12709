"""clinician controls (issue 10 §1-§2): the audit log, clinic notes, patients' questions, staff input in
progress, and the patient's clinician-set ceiling, "too painful today" threshold and progression hold

Revision ID: 0010
Revises: 0012
Create Date: 2026-11-25

`audit_log.patient_id` has no foreign key: an erased patient's audit rows stay, emptied of their content.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (a batch would rebuild `patient` on SQLite and lose its AUTOINCREMENT: ids never reused)
    op.add_column('patient', sa.Column('ceiling', sa.Integer(), nullable=True))
    op.add_column('patient', sa.Column('severe_threshold', sa.Integer(), nullable=True))
    op.add_column('patient', sa.Column('progression_held', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('actor_user_id', sa.BigInteger(), nullable=False),
        sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column('before', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('after', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('detail', sa.Integer(), nullable=True),
        sa.Column('erased', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_patient_at', 'audit_log', ['patient_id', 'at'])
    op.create_table(
        'clinic_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('author_user_id', sa.BigInteger(), nullable=False),
        sa.Column('author_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_clinic_note_patient_id', 'clinic_note', ['patient_id'])
    op.create_table(
        'patient_question',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('asked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column('answered_by', sa.BigInteger(), nullable=True),
        sa.Column('answered_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_patient_question_patient_id', 'patient_question', ['patient_id'])
    op.create_table(
        'staff_input',
        sa.Column('telegram_user_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('telegram_user_id'),
    )


def downgrade() -> None:
    op.drop_table('staff_input')
    op.drop_index('ix_patient_question_patient_id', table_name='patient_question')
    op.drop_table('patient_question')
    op.drop_index('ix_clinic_note_patient_id', table_name='clinic_note')
    op.drop_table('clinic_note')
    op.drop_index('ix_audit_log_patient_at', table_name='audit_log')
    op.drop_table('audit_log')
    with op.batch_alter_table('patient', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_column('progression_held')
        batch.drop_column('severe_threshold')
        batch.drop_column('ceiling')
