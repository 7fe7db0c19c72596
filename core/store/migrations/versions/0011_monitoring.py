"""monitoring (issue 16): resource samples, alert rules and alerts, drift reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:10:00

- `resourcesample`: CPU, memory, disk and store sizes sampled by the scheduler tick, pruned to a window.
- `alertrule`: a user's threshold on one metric (optionally for one dataset).
- `monitoringalert`: a breached rule, open until an evaluation finds it clear again.
- `driftreport`: one drift comparison with its per-column results.
Logs go to MongoDB (`monitoring.logs`), so they need no table.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resourcesample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cpu_percent', sa.Float(), nullable=False),
    sa.Column('memory_percent', sa.Float(), nullable=False),
    sa.Column('process_rss_mb', sa.Float(), nullable=False),
    sa.Column('disk_percent', sa.Float(), nullable=False),
    sa.Column('disk_free_gb', sa.Float(), nullable=False),
    sa.Column('sql_mb', sa.Float(), nullable=True),
    sa.Column('mongo_mb', sa.Float(), nullable=True),
    sa.Column('lake_mb', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('resourcesample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resourcesample_taken_at'), ['taken_at'], unique=False)

    op.create_table('alertrule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alertrule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alertrule_owner_id'), ['owner_id'], unique=False)

    op.create_table('monitoringalert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('raised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['alertrule.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('monitoringalert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoringalert_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoringalert_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoringalert_status'), ['status'], unique=False)

    op.create_table('driftreport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('current', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('columns_checked', sa.Integer(), nullable=False),
    sa.Column('drifted', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('retrain_job_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.ForeignKeyConstraint(['retrain_job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('driftreport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_driftreport_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_driftreport_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_driftreport_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('driftreport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_driftreport_created_at'))
        batch_op.drop_index(batch_op.f('ix_driftreport_created_by'))
        batch_op.drop_index(batch_op.f('ix_driftreport_dataset_id'))
    op.drop_table('driftreport')
    with op.batch_alter_table('monitoringalert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoringalert_status'))
        batch_op.drop_index(batch_op.f('ix_monitoringalert_owner_id'))
        batch_op.drop_index(batch_op.f('ix_monitoringalert_rule_id'))
    op.drop_table('monitoringalert')
    with op.batch_alter_table('alertrule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alertrule_owner_id'))
    op.drop_table('alertrule')
    with op.batch_alter_table('resourcesample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resourcesample_taken_at'))
    op.drop_table('resourcesample')
