"""listings app: listing bot drafts (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:10:00

- `listingdraft`: a listing drafted with the listing bot (title, description, attributes, price and the
  basis of the suggested price), owned by its creator; `version` counts saves.
- `listingdraftversion`: every saved state of a draft, unique per (draft, version).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('listingdraft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('price_basis', sa.JSON(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('listingdraft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listingdraft_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_listingdraft_created_by'), ['created_by'], unique=False)

    op.create_table('listingdraftversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('edited_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['listingdraft.id'], ),
    sa.ForeignKeyConstraint(['edited_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_id', 'version', name='uq_listingdraftversion_draft_version')
    )
    with op.batch_alter_table('listingdraftversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listingdraftversion_draft_id'), ['draft_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('listingdraftversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listingdraftversion_draft_id'))
    op.drop_table('listingdraftversion')
    with op.batch_alter_table('listingdraft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listingdraft_created_by'))
        batch_op.drop_index(batch_op.f('ix_listingdraft_category'))
    op.drop_table('listingdraft')
