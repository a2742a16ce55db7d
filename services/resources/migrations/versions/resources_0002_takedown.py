# mypy: ignore-errors
"""takedown: audited takedowns, blocked objects, taken-down resources

Revision ID: resources_0002
Revises: resources_0001
Create Date: 2026-12-02 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "resources_0002"
down_revision: str | None = "resources_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "takedown",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("purge_after", sa.Float(), nullable=False),
        sa.Column("purged_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedown")),
    )
    with op.batch_alter_table("takedown", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_takedown_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_takedown_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_takedown_purge_after"), ["purge_after"], unique=False)
    with op.batch_alter_table("stored_object", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked_at", sa.Float(), nullable=True))
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_down_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_column("taken_down_at")
    with op.batch_alter_table("stored_object", schema=None) as batch_op:
        batch_op.drop_column("blocked_at")
    with op.batch_alter_table("takedown", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_takedown_purge_after"))
        batch_op.drop_index(batch_op.f("ix_takedown_sha256"))
        batch_op.drop_index(batch_op.f("ix_takedown_resource_id"))
    op.drop_table("takedown")
