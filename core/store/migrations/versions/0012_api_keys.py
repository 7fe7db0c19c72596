"""REST API (issue 17): API keys and rate limits

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:10:00

- `apikey`: a user's API keys for the REST API (core/api). The secret itself is never stored, only its
  HMAC-SHA256 under SECRET_KEY (`key_hash`, unique: the lookup on every call) and a short display `prefix`.
  Revoking sets `revoked_at`; the row stays so the owner sees when a key was used last.
  Rate limits are per key in the API process's memory (no table).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('apikey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apikey_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_apikey_key_hash'), ['key_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('apikey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apikey_key_hash'))
        batch_op.drop_index(batch_op.f('ix_apikey_user_id'))
    op.drop_table('apikey')
