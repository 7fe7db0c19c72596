"""options application: a saved snapshot schedule per user

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00

- `optionschedule`: one row per user (unique `owner_id`): the underlyings to snapshot and how often.
  The scheduler (core/apps/options/schedule.py) claims a due row by moving `next_run_at` on with a
  compare-and-set update, so two processes never submit the same run; `last_job_id` is the
  `options_snapshot` job it submitted, shown with its progress on the Options page.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('optionschedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('symbols', sa.JSON(), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_job_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['last_job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('optionschedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_optionschedule_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_optionschedule_owner_id'), ['owner_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('optionschedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_optionschedule_owner_id'))
        batch_op.drop_index(batch_op.f('ix_optionschedule_next_run_at'))

    op.drop_table('optionschedule')
