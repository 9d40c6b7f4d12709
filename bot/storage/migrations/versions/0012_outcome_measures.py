"""outcome measures: rounds, answers and scores (issue 10 §3, rules/outcomes/*.toml); the patient's optional contact

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column('patient', sa.Column('contact', TEXT(length=40), nullable=True))
    op.create_table(
        'outcome_round',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('occasion', TEXT(length=12), nullable=False),
        sa.Column('started_at', WHEN(), nullable=False),
        sa.Column('finished_at', WHEN(), nullable=True),
        sa.Column('closed', sa.Boolean(), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('steps', sa.JSON(), nullable=False),
        sa.Column('activities', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outcome_round_patient_id', 'outcome_round', ['patient_id'])
    op.create_table(
        'outcome_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('instrument', TEXT(length=24), nullable=False),
        sa.Column('item', TEXT(length=24), nullable=False),
        sa.Column('activity', TEXT(length=60), nullable=True),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('answered_at', WHEN(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.ForeignKeyConstraint(['round_id'], ['outcome_round.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outcome_answer_patient_id', 'outcome_answer', ['patient_id'])
    op.create_index('ix_outcome_answer_round_id', 'outcome_answer', ['round_id'])
    op.create_table(
        'outcome_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('instrument', TEXT(length=24), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('occasion', TEXT(length=12), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('scored_at', WHEN(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.ForeignKeyConstraint(['round_id'], ['outcome_round.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'instrument'),
    )
    op.create_index('ix_outcome_score_patient_instrument', 'outcome_score', ['patient_id', 'instrument'])


def downgrade() -> None:
    op.drop_index('ix_outcome_score_patient_instrument', table_name='outcome_score')
    op.drop_table('outcome_score')
    op.drop_index('ix_outcome_answer_round_id', table_name='outcome_answer')
    op.drop_index('ix_outcome_answer_patient_id', table_name='outcome_answer')
    op.drop_table('outcome_answer')
    op.drop_index('ix_outcome_round_patient_id', table_name='outcome_round')
    op.drop_table('outcome_round')
    op.drop_column('patient', 'contact')
