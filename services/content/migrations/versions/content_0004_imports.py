# mypy: ignore-errors
"""imports (整合迁移): import jobs and imported items with their source keys and old URLs

Revision ID: content_0004_imports
Revises: content_0004_footprint
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'content_0004_imports'
down_revision: str | None = 'content_0004_footprint'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failures', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approval_note', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    op.create_index(op.f('ix_import_job_site_id'), 'import_job', ['site_id'], unique=False)
    op.create_table('import_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('original_url', sa.String(length=1000), nullable=True),
    sa.Column('original_path', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_item')),
    sa.UniqueConstraint('site_id', 'source_key', name=op.f('uq_import_item_site_id_source_key'))
    )
    op.create_index(op.f('ix_import_item_job_id'), 'import_item', ['job_id'], unique=False)
    op.create_index(op.f('ix_import_item_publication_id'), 'import_item', ['publication_id'], unique=False)
    op.create_index(op.f('ix_import_item_original_path'), 'import_item', ['original_path'], unique=False)


def downgrade() -> None:
    op.drop_table('import_item')
    op.drop_table('import_job')
