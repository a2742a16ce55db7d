# mypy: ignore-errors
"""withdrawal: who took a consultation, survey or interview off the site, when and why

Revision ID: interaction_0012_withdraw
Revises: interaction_0011_delivery_claims

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'interaction_0012_withdraw'
down_revision: str | None = 'interaction_0011_delivery_claims'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('consultation', 'survey', 'interview')
S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('withdrawn_at', sa.Float(), nullable=True))
            batch_op.add_column(sa.Column('withdrawn_by', S(length=128), nullable=True))
            batch_op.add_column(sa.Column('withdrawn_reason', S(length=500), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('withdrawn_reason')
            batch_op.drop_column('withdrawn_by')
            batch_op.drop_column('withdrawn_at')
