"""predictions and continuous training: model predictions per item, watched datasets

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 08:00:00

- `prediction` holds what a registered model version predicted for an item (ml/predict.py); the same
  values sit beside the raw document in the application's MongoDB `predictions` collection.
- `modelwatch` says which model retrains when its dataset gets a new refinement run (ml/continuous.py).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prediction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('raw_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('app', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('prediction', sa.JSON(), nullable=True),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'model_name', 'model_version', name='uq_prediction_item_model')
    )
    with op.batch_alter_table('prediction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prediction_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prediction_raw_id'), ['raw_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prediction_model_name'), ['model_name'], unique=False)

    op.create_table('modelwatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('dataset_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('last_marker', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('last_decision', sa.JSON(), nullable=False),
    sa.Column('last_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('modelwatch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_modelwatch_model_name'), ['model_name'], unique=True)
        batch_op.create_index(batch_op.f('ix_modelwatch_dataset_name'), ['dataset_name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('modelwatch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_modelwatch_dataset_name'))
        batch_op.drop_index(batch_op.f('ix_modelwatch_model_name'))
    op.drop_table('modelwatch')
    with op.batch_alter_table('prediction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prediction_model_name'))
        batch_op.drop_index(batch_op.f('ix_prediction_raw_id'))
        batch_op.drop_index(batch_op.f('ix_prediction_item_id'))
    op.drop_table('prediction')
