# mypy: ignore-errors
"""new-media account registry and push tasks (articles 17 and 42)

Revision ID: content_0005_new_media
Revises: content_0004_imports
Create Date: 2026-12-03 08:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "content_0005_new_media"
down_revision: str | None = "content_0004_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "new_media_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", _s(64), nullable=False),
        sa.Column("platform", _s(16), nullable=False),
        sa.Column("account_name", _s(200), nullable=False),
        sa.Column("filing_no", _s(64), nullable=False),
        sa.Column("status", _s(16), nullable=False),
        sa.Column("endpoint", _s(1000), nullable=False),
        sa.Column("secret", _s(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "platform", "account_name"),
    )
    op.create_index(op.f("ix_new_media_account_site_id"), "new_media_account", ["site_id"], unique=False)
    op.create_table(
        "new_media_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("site_id", _s(64), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", _s(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", _s(300), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "publication_id"),
    )
    for column in ("account_id", "site_id", "state", "next_attempt_at"):
        op.create_index(op.f(f"ix_new_media_task_{column}"), "new_media_task", [column], unique=False)


def downgrade() -> None:
    for column in ("account_id", "site_id", "state", "next_attempt_at"):
        op.drop_index(op.f(f"ix_new_media_task_{column}"), table_name="new_media_task")
    op.drop_table("new_media_task")
    op.drop_index(op.f("ix_new_media_account_site_id"), table_name="new_media_account")
    op.drop_table("new_media_account")
