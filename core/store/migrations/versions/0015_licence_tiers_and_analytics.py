"""marketplace extras (issue 19): licence tiers, the tier each sale bought, listing views

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:00:00

- `listingtier`: the ways one listing can be bought (licence, terms, price); a listing without rows here
  is sold as one tier made of its own licence and price.
- `saletier`: the tier a sale bought, copied at purchase time (one per sale).
- `listingview`: a visitor other than the seller opened a listing's detail, for the seller's analytics.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('listingtier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('license', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('listing_id', 'name', name='uq_listingtier_listing_name')
    )
    with op.batch_alter_table('listingtier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listingtier_listing_id'), ['listing_id'], unique=False)

    op.create_table('saletier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('tier_name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('license', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sale_id'], ['sale.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sale_id', name='uq_saletier_sale')
    )

    op.create_table('listingview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('viewer_id', sa.Integer(), nullable=False),
    sa.Column('viewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], ),
    sa.ForeignKeyConstraint(['viewer_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('listingview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listingview_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listingview_viewer_id'), ['viewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listingview_viewed_at'), ['viewed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('listingview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listingview_viewed_at'))
        batch_op.drop_index(batch_op.f('ix_listingview_viewer_id'))
        batch_op.drop_index(batch_op.f('ix_listingview_listing_id'))
    op.drop_table('listingview')
    op.drop_table('saletier')
    with op.batch_alter_table('listingtier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listingtier_listing_id'))
    op.drop_table('listingtier')
