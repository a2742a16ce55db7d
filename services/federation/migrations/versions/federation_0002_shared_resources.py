# mypy: ignore-errors
"""federation: resources shared with peers, the peers' usages of them, our placements of theirs

Revision ID: federation_0002_shared_resources
Revises: federation_0001_peers
Create Date: 2026-12-03 15:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'federation_0002_shared_resources'
down_revision: str | None = 'federation_0001_peers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('shared_resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('owner_site', _S(length=64), nullable=False),
    sa.Column('offered_by', _S(length=128), nullable=False),
    sa.Column('offered_at', _TS, nullable=True),
    sa.Column('revoked_at', _TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_resource'))
    )
    with op.batch_alter_table('shared_resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_resource_resource_id'), ['resource_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_shared_resource_owner_site'), ['owner_site'], unique=False)

    op.create_table('peer_resource_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('peer', _S(length=64), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('site', _S(length=64), nullable=False),
    sa.Column('item', sa.Integer(), nullable=False),
    sa.Column('title', _S(length=300), nullable=False),
    sa.Column('status', _S(length=16), nullable=False),
    sa.Column('registered_at', _TS, nullable=True),
    sa.Column('updated_at', _TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_resource_usage')),
    sa.UniqueConstraint('peer', 'site', 'item', name=op.f('uq_peer_resource_usage_peer_site_item'))
    )
    with op.batch_alter_table('peer_resource_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_resource_usage_peer'), ['peer'], unique=False)
        batch_op.create_index(batch_op.f('ix_peer_resource_usage_resource_id'), ['resource_id'], unique=False)

    op.create_table('resource_placement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('peer', _S(length=64), nullable=False),
    sa.Column('remote_resource_id', sa.Integer(), nullable=False),
    sa.Column('remote_version', sa.Integer(), nullable=False),
    sa.Column('remote_index_no', _S(length=64), nullable=True),
    sa.Column('site', _S(length=64), nullable=False),
    sa.Column('column_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('resource_version', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('status', _S(length=16), nullable=False),
    sa.Column('registered', sa.Boolean(), nullable=False),
    sa.Column('last_error', _S(length=500), nullable=True),
    sa.Column('placed_by', _S(length=128), nullable=False),
    sa.Column('placed_at', _TS, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_placement')),
    sa.UniqueConstraint('peer', 'site', 'publication_id', name=op.f('uq_resource_placement_peer_site_publication_id'))
    )
    with op.batch_alter_table('resource_placement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_placement_peer'), ['peer'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_placement_site'), ['site'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('resource_placement', ('ix_resource_placement_site', 'ix_resource_placement_peer')),
        ('peer_resource_usage', ('ix_peer_resource_usage_resource_id', 'ix_peer_resource_usage_peer')),
        ('shared_resource', ('ix_shared_resource_owner_site', 'ix_shared_resource_resource_id')),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(batch_op.f(name))
        op.drop_table(table)
