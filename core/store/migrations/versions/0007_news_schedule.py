"""news app: saved workflow schedules (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 11:00:00

- `newsschedule`: a saved digest / topic brief / run report that the scheduler submits as a
  `news_generate` job every `every_hours`, as the user who saved it. A due row is claimed by moving
  `next_run_at` on with a compare-and-set update, so two processes never submit the same run.
- `newsdigest.period` now also holds `topic` and `run` (the workflow); no column change.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('newsschedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('workflow', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('every_hours', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_job_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.ForeignKeyConstraint(['last_job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('newsschedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newsschedule_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_newsschedule_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_newsschedule_created_by'), ['created_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('newsschedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_newsschedule_created_by'))
        batch_op.drop_index(batch_op.f('ix_newsschedule_next_run_at'))
        batch_op.drop_index(batch_op.f('ix_newsschedule_dataset_id'))
    op.drop_table('newsschedule')
