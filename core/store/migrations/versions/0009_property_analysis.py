"""listings app: property valuations and investment scenarios (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:10:00

- `propertyvaluationmodel`: what property analysis adds to an ML Lab model version (interval calibration,
  measured coverage, comparables features and pool path).
- `propertyvaluation`: one listing valued by one model version (estimate, interval, flag) for sorting and
  filtering; the comparables sit beside the raw document in MongoDB. Scenarios are computed, not stored.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('propertyvaluationmodel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('feature_columns', sa.JSON(), nullable=False),
    sa.Column('distance_features', sa.JSON(), nullable=False),
    sa.Column('interval_level', sa.Float(), nullable=False),
    sa.Column('log_ratio_low', sa.Float(), nullable=False),
    sa.Column('log_ratio_high', sa.Float(), nullable=False),
    sa.Column('coverage', sa.Float(), nullable=True),
    sa.Column('holdout_rows', sa.Integer(), nullable=False),
    sa.Column('mae', sa.Float(), nullable=True),
    sa.Column('mape', sa.Float(), nullable=True),
    sa.Column('training_rows', sa.Integer(), nullable=False),
    sa.Column('pool_path', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_name', 'model_version', name='uq_propertyvaluationmodel_version')
    )
    op.create_index(op.f('ix_propertyvaluationmodel_created_by'), 'propertyvaluationmodel', ['created_by'], unique=False)
    op.create_index(op.f('ix_propertyvaluationmodel_model_name'), 'propertyvaluationmodel', ['model_name'], unique=False)
    op.create_table('propertyvaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('raw_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('offer', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('area_m2', sa.Float(), nullable=True),
    sa.Column('listed_price', sa.Float(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('estimate', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('diff_pct', sa.Float(), nullable=True),
    sa.Column('flag', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'model_name', 'model_version', name='uq_propertyvaluation_item')
    )
    op.create_index(op.f('ix_propertyvaluation_created_by'), 'propertyvaluation', ['created_by'], unique=False)
    op.create_index(op.f('ix_propertyvaluation_dataset_id'), 'propertyvaluation', ['dataset_id'], unique=False)
    op.create_index(op.f('ix_propertyvaluation_flag'), 'propertyvaluation', ['flag'], unique=False)
    op.create_index(op.f('ix_propertyvaluation_item_id'), 'propertyvaluation', ['item_id'], unique=False)
    op.create_index(op.f('ix_propertyvaluation_model_name'), 'propertyvaluation', ['model_name'], unique=False)
    op.create_index(op.f('ix_propertyvaluation_raw_id'), 'propertyvaluation', ['raw_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_propertyvaluation_raw_id'), table_name='propertyvaluation')
    op.drop_index(op.f('ix_propertyvaluation_model_name'), table_name='propertyvaluation')
    op.drop_index(op.f('ix_propertyvaluation_item_id'), table_name='propertyvaluation')
    op.drop_index(op.f('ix_propertyvaluation_flag'), table_name='propertyvaluation')
    op.drop_index(op.f('ix_propertyvaluation_dataset_id'), table_name='propertyvaluation')
    op.drop_index(op.f('ix_propertyvaluation_created_by'), table_name='propertyvaluation')
    op.drop_table('propertyvaluation')
    op.drop_index(op.f('ix_propertyvaluationmodel_model_name'), table_name='propertyvaluationmodel')
    op.drop_index(op.f('ix_propertyvaluationmodel_created_by'), table_name='propertyvaluationmodel')
    op.drop_table('propertyvaluationmodel')
