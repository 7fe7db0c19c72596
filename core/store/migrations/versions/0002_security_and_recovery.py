"""security and recovery: login throttling, network allow-list, failure reasons, build jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:20:00

- `source.allow_private_hosts` goes: a per-source switch let user config widen network policy.
  Reaching a private address now needs an exact host:port on the allow-list (settings or an admin).
- `loginattempt` feeds the per-account and per-address sign-in throttle.
- `refinementrun.error` / `datapackage.error` say why start-up reconciliation failed a stale row;
  `datapackage.job_id` lets it tell a live build from one whose process died.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loginattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('loginattempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loginattempt_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_loginattempt_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_loginattempt_created_at'), ['created_at'], unique=False)

    op.create_table('networkallowentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('host', 'port', name='uq_network_allow_host_port')
    )

    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.drop_column('allow_private_hosts')
    with op.batch_alter_table('refinementrun', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
    with op.batch_alter_table('datapackage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_datapackage_job_id', 'job', ['job_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('datapackage', schema=None) as batch_op:
        batch_op.drop_constraint('fk_datapackage_job_id', type_='foreignkey')
        batch_op.drop_column('job_id')
        batch_op.drop_column('error')
    with op.batch_alter_table('refinementrun', schema=None) as batch_op:
        batch_op.drop_column('error')
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_private_hosts', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.drop_table('networkallowentry')
    with op.batch_alter_table('loginattempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loginattempt_created_at'))
        batch_op.drop_index(batch_op.f('ix_loginattempt_address'))
        batch_op.drop_index(batch_op.f('ix_loginattempt_email'))
    op.drop_table('loginattempt')
