# mypy: ignore-errors
"""digests: collected items assembled into daily/weekly digests; items' page meta; site templates

Revision ID: interaction_0010_digests
Revises: interaction_0009_sub_targets

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'interaction_0010_digests'
down_revision: str | None = 'interaction_0009_sub_targets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('subscription_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('period', S(length=40), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.Column('last_error', S(length=500), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('sent_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscription_id', 'period')
    )
    op.create_index('ix_subscription_digest_due', 'subscription_digest', ['status', 'next_at'], unique=False)
    op.create_table('site_mail_template',
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('subject', S(length=500), nullable=False),
    sa.Column('text', S(length=20000), nullable=False),
    sa.Column('html', S(length=40000), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('updated_by', S(length=128), nullable=False),
    sa.PrimaryKeyConstraint('site')
    )
    with op.batch_alter_table('subscription_item') as batch:
        batch.add_column(sa.Column('issuer_org', S(length=200), nullable=True))
        batch.add_column(sa.Column('doc_no', S(length=200), nullable=True))
        batch.add_column(sa.Column('published_on', S(length=10), nullable=True))
    with op.batch_alter_table('subscription_delivery') as batch:
        batch.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_subscription_delivery_digest', 'subscription_digest', ['digest_id'], ['id']
        )
        batch.create_index('ix_subscription_delivery_digest_id', ['digest_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subscription_delivery') as batch:
        batch.drop_index('ix_subscription_delivery_digest_id')
        batch.drop_constraint('fk_subscription_delivery_digest', type_='foreignkey')
        batch.drop_column('digest_id')
    with op.batch_alter_table('subscription_item') as batch:
        batch.drop_column('published_on')
        batch.drop_column('doc_no')
        batch.drop_column('issuer_org')
    op.drop_table('site_mail_template')
    op.drop_index('ix_subscription_digest_due', table_name='subscription_digest')
    op.drop_table('subscription_digest')
