# mypy: ignore-errors
"""letter notices: a delivery may tell a subscriber of a new state of their own letter

Revision ID: interaction_0013_letter_notices
Revises: interaction_0012_withdraw

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "interaction_0013_letter_notices"
down_revision: str | None = "interaction_0012_withdraw"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscription_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("letter_status", sa.String(length=16), nullable=True))
        batch_op.alter_column("publication_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            "fk_subscription_delivery_letter_id_letter", "letter", ["letter_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            "uq_subscription_delivery_letter_state",
            ["subscription_id", "letter_id", "letter_status"],
        )


def downgrade() -> None:
    op.execute("DELETE FROM subscription_delivery WHERE publication_id IS NULL")
    with op.batch_alter_table("subscription_delivery", schema=None) as batch_op:
        batch_op.drop_constraint("uq_subscription_delivery_letter_state", type_="unique")
        batch_op.drop_constraint("fk_subscription_delivery_letter_id_letter", type_="foreignkey")
        batch_op.alter_column("publication_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("letter_status")
        batch_op.drop_column("letter_id")
