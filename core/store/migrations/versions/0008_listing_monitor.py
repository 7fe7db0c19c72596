"""listings app: marketplace monitor (issue 14): saved searches, watched sources, passes, listings, events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:10:00

- `monitorsearch`: a user's saved search (source or category, words, price range, location).
- `monitorwatch`: a watched listing source with its interval; claimed by a compare-and-set on `next_run_at`,
  `pass_started_at` is the lock that keeps two passes over one source apart.
- `monitorpass`, `monitorlisting`: each pass, and what the monitor last knew of every listing (key: URL path).
- `monitorevent` (one row per change a pass found) and `monitorinboxitem` (an event delivered to a user).
- `monitorpricepoint`: a listing's price and stock per day, for the statistics.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monitorsearch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('words', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('min_price', sa.Float(), nullable=True),
    sa.Column('max_price', sa.Float(), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_monitorsearch_created_by'), 'monitorsearch', ['created_by'], unique=False)
    op.create_table('monitorwatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('source_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('every_minutes', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('notify_all', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_job_id', sa.Integer(), nullable=True),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.Column('pass_started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['last_job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_monitorwatch_next_run_at'), 'monitorwatch', ['next_run_at'], unique=False)
    op.create_index(op.f('ix_monitorwatch_owner_id'), 'monitorwatch', ['owner_id'], unique=False)
    op.create_index(op.f('ix_monitorwatch_source_id'), 'monitorwatch', ['source_id'], unique=True)
    op.create_table('monitorlisting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('raw_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('in_stock', sa.Boolean(), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('relist_of_id', sa.Integer(), nullable=True),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('gone_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('days_to_end', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['relist_of_id'], ['monitorlisting.id'], ),
    sa.ForeignKeyConstraint(['watch_id'], ['monitorwatch.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('watch_id', 'key', name='uq_monitorlisting_watch_key')
    )
    op.create_index(op.f('ix_monitorlisting_status'), 'monitorlisting', ['status'], unique=False)
    op.create_index(op.f('ix_monitorlisting_watch_id'), 'monitorlisting', ['watch_id'], unique=False)
    op.create_table('monitorpass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('baseline', sa.Boolean(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('listings', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['watch_id'], ['monitorwatch.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_monitorpass_watch_id'), 'monitorpass', ['watch_id'], unique=False)
    op.create_table('monitorevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('pass_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('raw_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('old_price', sa.Float(), nullable=True),
    sa.Column('new_price', sa.Float(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('drop_amount', sa.Float(), nullable=True),
    sa.Column('drop_pct', sa.Float(), nullable=True),
    sa.Column('relist_of_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['monitorlisting.id'], ),
    sa.ForeignKeyConstraint(['pass_id'], ['monitorpass.id'], ),
    sa.ForeignKeyConstraint(['relist_of_id'], ['monitorlisting.id'], ),
    sa.ForeignKeyConstraint(['watch_id'], ['monitorwatch.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_monitorevent_created_at'), 'monitorevent', ['created_at'], unique=False)
    op.create_index(op.f('ix_monitorevent_kind'), 'monitorevent', ['kind'], unique=False)
    op.create_index(op.f('ix_monitorevent_listing_id'), 'monitorevent', ['listing_id'], unique=False)
    op.create_index(op.f('ix_monitorevent_pass_id'), 'monitorevent', ['pass_id'], unique=False)
    op.create_index(op.f('ix_monitorevent_watch_id'), 'monitorevent', ['watch_id'], unique=False)
    op.create_table('monitorpricepoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('in_stock', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['monitorlisting.id'], ),
    sa.ForeignKeyConstraint(['watch_id'], ['monitorwatch.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('listing_id', 'day', name='uq_monitorpricepoint_listing_day')
    )
    op.create_index(op.f('ix_monitorpricepoint_day'), 'monitorpricepoint', ['day'], unique=False)
    op.create_index(op.f('ix_monitorpricepoint_watch_id'), 'monitorpricepoint', ['watch_id'], unique=False)
    op.create_table('monitorinboxitem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('search_id', sa.Integer(), nullable=True),
    sa.Column('search_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['monitorevent.id'], ),
    sa.ForeignKeyConstraint(['search_id'], ['monitorsearch.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'event_id', name='uq_monitorinboxitem_user_event')
    )
    op.create_index(op.f('ix_monitorinboxitem_event_id'), 'monitorinboxitem', ['event_id'], unique=False)
    op.create_index(op.f('ix_monitorinboxitem_user_id'), 'monitorinboxitem', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_monitorinboxitem_user_id'), table_name='monitorinboxitem')
    op.drop_index(op.f('ix_monitorinboxitem_event_id'), table_name='monitorinboxitem')
    op.drop_table('monitorinboxitem')
    op.drop_index(op.f('ix_monitorpricepoint_watch_id'), table_name='monitorpricepoint')
    op.drop_index(op.f('ix_monitorpricepoint_day'), table_name='monitorpricepoint')
    op.drop_table('monitorpricepoint')
    op.drop_index(op.f('ix_monitorevent_watch_id'), table_name='monitorevent')
    op.drop_index(op.f('ix_monitorevent_pass_id'), table_name='monitorevent')
    op.drop_index(op.f('ix_monitorevent_listing_id'), table_name='monitorevent')
    op.drop_index(op.f('ix_monitorevent_kind'), table_name='monitorevent')
    op.drop_index(op.f('ix_monitorevent_created_at'), table_name='monitorevent')
    op.drop_table('monitorevent')
    op.drop_index(op.f('ix_monitorpass_watch_id'), table_name='monitorpass')
    op.drop_table('monitorpass')
    op.drop_index(op.f('ix_monitorlisting_watch_id'), table_name='monitorlisting')
    op.drop_index(op.f('ix_monitorlisting_status'), table_name='monitorlisting')
    op.drop_table('monitorlisting')
    op.drop_index(op.f('ix_monitorwatch_source_id'), table_name='monitorwatch')
    op.drop_index(op.f('ix_monitorwatch_owner_id'), table_name='monitorwatch')
    op.drop_index(op.f('ix_monitorwatch_next_run_at'), table_name='monitorwatch')
    op.drop_table('monitorwatch')
    op.drop_index(op.f('ix_monitorsearch_created_by'), table_name='monitorsearch')
    op.drop_table('monitorsearch')
