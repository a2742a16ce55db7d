# mypy: ignore-errors
"""feed retention and dead letters: consumer acknowledgements, prune watermark, dead letters

Revision ID: oversight_0002
Revises: oversight_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'oversight_0002'
down_revision: str | None = 'oversight_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feed_ack',
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_feed_ack'))
    )
    op.create_table('feed_watermark',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('pruned_through', sa.BigInteger(), nullable=False),
    sa.Column('pruned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_watermark'))
    )
    op.create_table('feed_dead_letter',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('event_cursor', sa.BigInteger(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('event_created_at', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('dead_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_dead_letter'))
    )
    with op.batch_alter_table('feed_dead_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_dead_letter_consumer'), ['consumer'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feed_dead_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_dead_letter_consumer'))
    op.drop_table('feed_dead_letter')
    op.drop_table('feed_watermark')
    op.drop_table('feed_ack')
