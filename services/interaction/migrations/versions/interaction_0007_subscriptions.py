# mypy: ignore-errors
"""subscriptions: subscriptions, items, deliveries

Revision ID: interaction_0007_subscriptions
Revises: interaction_0006_interviews

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'interaction_0007_subscriptions'
down_revision: str | None = 'interaction_0006_interviews'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('column_id', sa.Integer(), nullable=False),
    sa.Column('subscriber', S(length=128), nullable=False),
    sa.Column('email', S(length=254), nullable=False),
    sa.Column('rhythm', S(length=16), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('confirmed_at', sa.Float(), nullable=True),
    sa.Column('ended_at', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription')),
    sa.UniqueConstraint('site', 'column_id', 'subscriber', 'email', name=op.f('uq_subscription_site_column_id_subscriber_email'))
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_match', ['site', 'column_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_subscriber'), ['subscriber'], unique=False)

    op.create_table('subscription_item',
    sa.Column('publication_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('site_name', S(length=200), nullable=False),
    sa.Column('column_id', sa.Integer(), nullable=False),
    sa.Column('title', S(length=300), nullable=False),
    sa.Column('url', S(length=1000), nullable=False),
    sa.Column('important', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('publication_id', name=op.f('pk_subscription_item'))
    )
    op.create_table('subscription_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.Column('last_error', S(length=500), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('sent_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['publication_id'], ['subscription_item.publication_id'], name=op.f('fk_subscription_delivery_publication_id_subscription_item')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_subscription_delivery_subscription_id_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_delivery')),
    sa.UniqueConstraint('subscription_id', 'publication_id', name=op.f('uq_subscription_delivery_subscription_id_publication_id'))
    )
    with op.batch_alter_table('subscription_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_delivery_due', ['status', 'priority', 'next_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subscription_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_delivery_due')
    op.drop_table('subscription_delivery')
    op.drop_table('subscription_item')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_subscriber'))
        batch_op.drop_index('ix_subscription_match')
    op.drop_table('subscription')
