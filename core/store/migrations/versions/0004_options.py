"""options application: chain snapshots, standardized quotes, paper trades and their marks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 08:00:08

- `optionsnapshot` is one chain fetched from the broker (or the simulator); the raw JSON is in the
  options raw store (MongoDB), `raw_id` points at it. `atm_vol_30d` feeds IV rank.
- `optionquote` is one standardized contract of a snapshot with its implied volatility and greeks.
- `papertrade` holds proposed / open / rejected / closed paper positions, owned by `owner_id`.
- `papermark` is a paper trade's mark-to-market history, one row per snapshot.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('optionsnapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('broker', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('as_of', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('underlying_price', sa.Float(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('dividend_yield', sa.Float(), nullable=False),
    sa.Column('atm_vol_30d', sa.Float(), nullable=True),
    sa.Column('contracts', sa.Integer(), nullable=False),
    sa.Column('raw_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('optionsnapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_optionsnapshot_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_optionsnapshot_symbol'), ['symbol'], unique=False)
        batch_op.create_index(batch_op.f('ix_optionsnapshot_taken_at'), ['taken_at'], unique=False)

    op.create_table('optionquote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('contract', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('put_call', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('strike', sa.Float(), nullable=False),
    sa.Column('expiry', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('bid', sa.Float(), nullable=True),
    sa.Column('ask', sa.Float(), nullable=True),
    sa.Column('mid', sa.Float(), nullable=True),
    sa.Column('volume', sa.Integer(), nullable=False),
    sa.Column('open_interest', sa.Integer(), nullable=False),
    sa.Column('implied_vol', sa.Float(), nullable=True),
    sa.Column('delta', sa.Float(), nullable=True),
    sa.Column('gamma', sa.Float(), nullable=True),
    sa.Column('vega', sa.Float(), nullable=True),
    sa.Column('theta', sa.Float(), nullable=True),
    sa.Column('rho', sa.Float(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['optionsnapshot.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('optionquote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_optionquote_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('papertrade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('legs', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('risk', sa.JSON(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=True),
    sa.Column('entry_value', sa.Float(), nullable=False),
    sa.Column('last_value', sa.Float(), nullable=True),
    sa.Column('unrealized_pnl', sa.Float(), nullable=True),
    sa.Column('marked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['snapshot_id'], ['optionsnapshot.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('papertrade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_papertrade_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_papertrade_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_papertrade_symbol'), ['symbol'], unique=False)

    op.create_table('papermark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trade_id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('pnl', sa.Float(), nullable=False),
    sa.Column('marked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['optionsnapshot.id'], ),
    sa.ForeignKeyConstraint(['trade_id'], ['papertrade.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('papermark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_papermark_trade_id'), ['trade_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('papermark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_papermark_trade_id'))

    op.drop_table('papermark')
    with op.batch_alter_table('papertrade', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_papertrade_symbol'))
        batch_op.drop_index(batch_op.f('ix_papertrade_status'))
        batch_op.drop_index(batch_op.f('ix_papertrade_owner_id'))

    op.drop_table('papertrade')
    with op.batch_alter_table('optionquote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_optionquote_snapshot_id'))

    op.drop_table('optionquote')
    with op.batch_alter_table('optionsnapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_optionsnapshot_taken_at'))
        batch_op.drop_index(batch_op.f('ix_optionsnapshot_symbol'))
        batch_op.drop_index(batch_op.f('ix_optionsnapshot_as_of'))

    op.drop_table('optionsnapshot')
