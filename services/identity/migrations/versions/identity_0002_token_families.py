# mypy: ignore-errors
"""token families: a refresh family's end, the family an authorization code started

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-02 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "identity_0002"
down_revision: str | None = "identity_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_expires_at", sa.Float(), nullable=True))
    # Families that exist already end with their current token: no family outlives the limit.
    op.execute("UPDATE refresh_token SET family_expires_at = expires_at")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.alter_column("family_expires_at", existing_type=sa.Float(), nullable=False)
        batch_op.create_index(batch_op.f("ix_refresh_token_family_expires_at"), ["family_expires_at"])
    with op.batch_alter_table("authorization_code", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("family_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("authorization_code", schema=None) as batch_op:
        batch_op.drop_column("family_id")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_family_expires_at"))
        batch_op.drop_column("family_expires_at")
