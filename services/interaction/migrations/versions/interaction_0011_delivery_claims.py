# mypy: ignore-errors
"""delivery claims: a lease per claimed delivery, a bounce count per subscription

Revision ID: interaction_0011_delivery_claims
Revises: interaction_0010_digests

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'interaction_0011_delivery_claims'
down_revision: str | None = 'interaction_0010_digests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subscription_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.Float(), nullable=True))
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bounces', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_column('bounces')
    with op.batch_alter_table('subscription_delivery', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
