# mypy: ignore-errors
"""subscription targets: topic, genre and keyword subscriptions

Revision ID: interaction_0009_sub_targets
Revises: interaction_0008_transcripts

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'interaction_0009_sub_targets'
down_revision: str | None = 'interaction_0008_transcripts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', S(length=16), nullable=False, server_default='column'))
        batch_op.add_column(sa.Column('term', S(length=500), nullable=False, server_default=''))
        batch_op.drop_constraint('uq_subscription_site_column_id_subscriber_email', type_='unique')
        batch_op.create_unique_constraint(
            'uq_subscription_site_target_column_id_term_subscriber_email',
            ['site', 'target', 'column_id', 'term', 'subscriber', 'email'],
        )
        batch_op.create_index('ix_subscription_term', ['site', 'target', 'term', 'status'], unique=False)
    # Whole-site subscriptions were column 0 until now.
    op.execute("UPDATE subscription SET target = 'site' WHERE column_id = 0")
    op.create_table('subscription_keyword',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('word', S(length=40), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_subscription_keyword_subscription_id_subscription')),
    sa.PrimaryKeyConstraint('subscription_id', 'word', name=op.f('pk_subscription_keyword'))
    )


def downgrade() -> None:
    op.drop_table('subscription_keyword')
    op.execute("DELETE FROM subscription_delivery WHERE subscription_id IN (SELECT id FROM subscription WHERE target IN ('topic', 'genre', 'keywords'))")
    op.execute("DELETE FROM subscription WHERE target IN ('topic', 'genre', 'keywords')")
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_term')
        batch_op.drop_constraint('uq_subscription_site_target_column_id_term_subscriber_email', type_='unique')
        batch_op.create_unique_constraint(
            'uq_subscription_site_column_id_subscriber_email', ['site', 'column_id', 'subscriber', 'email']
        )
        batch_op.drop_column('term')
        batch_op.drop_column('target')
