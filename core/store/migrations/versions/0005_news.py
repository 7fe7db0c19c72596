"""news app: analysed articles and generated digests (issue 13)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00

- `newsanalysis`: one row per analysed item (summary, topic, tone and bias indicator figures) for
  filtering and reports; the full evidence stays in MongoDB beside the raw article.
- `newsdigest`: generated daily/weekly digests with their inputs, generator and review status.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('newsanalysis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('raw_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source_app', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('summary_method', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('tone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sentiment', sa.Float(), nullable=True),
    sa.Column('subjectivity_rate', sa.Float(), nullable=False),
    sa.Column('loaded_per_100_words', sa.Float(), nullable=False),
    sa.Column('hedging_rate', sa.Float(), nullable=False),
    sa.Column('quote_share', sa.Float(), nullable=False),
    sa.Column('source_count', sa.Integer(), nullable=False),
    sa.Column('one_sided', sa.Boolean(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', name='uq_newsanalysis_item')
    )
    with op.batch_alter_table('newsanalysis', schema=None) as batch_op:
        for column in ('dataset_id', 'source_id', 'language', 'published_at', 'topic', 'tone'):
            batch_op.create_index(batch_op.f(f'ix_newsanalysis_{column}'), [column], unique=False)

    op.create_table('newsdigest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('period_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('period_end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('generator', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('pii_findings', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('newsdigest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newsdigest_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_newsdigest_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('newsdigest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_newsdigest_status'))
        batch_op.drop_index(batch_op.f('ix_newsdigest_dataset_id'))
    op.drop_table('newsdigest')
    with op.batch_alter_table('newsanalysis', schema=None) as batch_op:
        for column in ('tone', 'topic', 'published_at', 'language', 'source_id', 'dataset_id'):
            batch_op.drop_index(batch_op.f(f'ix_newsanalysis_{column}'))
    op.drop_table('newsanalysis')
