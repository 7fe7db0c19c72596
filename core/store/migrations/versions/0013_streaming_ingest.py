"""streaming ingest and bucket sources (issue 17): ingest checkpoints, seen objects

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:10:00

- `ingestcheckpoint`: how far a streamed ingest of one file (by fingerprint) into one dataset has
  committed, so a crashed ingest resumes after its last committed batch instead of starting over.
- `bucketobjectseen`: each object of a bucket source as last ingested (ETag, size, mtime), so the next
  run picks up only new or changed objects.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingestcheckpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('bytes_total', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=False),
    sa.Column('byte_offset', sa.BigInteger(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dataset_name', 'fingerprint', name='uq_ingest_checkpoint')
    )
    with op.batch_alter_table('ingestcheckpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingestcheckpoint_dataset_name'), ['dataset_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_ingestcheckpoint_created_by'), ['created_by'], unique=False)

    op.create_table('bucketobjectseen',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('ingested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'key', name='uq_bucket_object')
    )
    with op.batch_alter_table('bucketobjectseen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bucketobjectseen_source_id'), ['source_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bucketobjectseen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bucketobjectseen_source_id'))
    op.drop_table('bucketobjectseen')
    with op.batch_alter_table('ingestcheckpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingestcheckpoint_created_by'))
        batch_op.drop_index(batch_op.f('ix_ingestcheckpoint_dataset_name'))
    op.drop_table('ingestcheckpoint')
