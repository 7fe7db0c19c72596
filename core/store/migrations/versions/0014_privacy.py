"""GDPR requests (issue 19): erasures, suppression list, notices on sold packages

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00

- `privacyerasure`: one erasure as carried out (scope, job, status, per-store report). The subject is
  recorded only as a keyed hash (`subject_key`), never by email, phone or name.
- `suppressedidentifier`: keyed hashes of erased subjects' identifiers, checked on ingest so a re-scrape
  does not bring the data back; `owner_id` NULL applies to every owner's data (an admin's erasure).
- `packageerasurenotice`: a sold package version held records of an erased subject; its buyers are told
  which rows to delete from their copy.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacyerasure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope_owner_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['scope_owner_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('privacyerasure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacyerasure_subject_key'), ['subject_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacyerasure_requested_by'), ['requested_by'], unique=False)

    op.create_table('suppressedidentifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('identifier_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name_words', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('erasure_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['erasure_id'], ['privacyerasure.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suppressedidentifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppressedidentifier_identifier_hash'), ['identifier_hash'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_suppressedidentifier_owner_id'), ['owner_id'], unique=False)

    op.create_table('packageerasurenotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('erasure_id', sa.Integer(), nullable=False),
    sa.Column('rows_affected', sa.Integer(), nullable=False),
    sa.Column('record_ids', sa.JSON(), nullable=False),
    sa.Column('notice', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['datapackage.id'], ),
    sa.ForeignKeyConstraint(['erasure_id'], ['privacyerasure.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('packageerasurenotice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_packageerasurenotice_package_id'), ['package_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('packageerasurenotice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_packageerasurenotice_package_id'))
    op.drop_table('packageerasurenotice')
    with op.batch_alter_table('suppressedidentifier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppressedidentifier_owner_id'))
        batch_op.drop_index(batch_op.f('ix_suppressedidentifier_identifier_hash'))
    op.drop_table('suppressedidentifier')
    with op.batch_alter_table('privacyerasure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacyerasure_requested_by'))
        batch_op.drop_index(batch_op.f('ix_privacyerasure_subject_key'))
    op.drop_table('privacyerasure')
