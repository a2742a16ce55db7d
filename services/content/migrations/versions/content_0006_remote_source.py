# mypy: ignore-errors
"""remote source of 转载: subscriptions to a peer platform's column, its items, provenance on copies

Revision ID: content_0006_remote_source
Revises: content_0005_new_media
Create Date: 2026-12-03 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "content_0006_remote_source"
down_revision: str | None = "content_0005_new_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "remote_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer", _s(64), nullable=False),
        sa.Column("remote_site", _s(64), nullable=False),
        sa.Column("remote_column_id", sa.Integer(), nullable=False),
        sa.Column("remote_publication_id", sa.Integer(), nullable=False),
        sa.Column("title", _s(500), nullable=False),
        sa.Column("body_html", sa.LargeBinary(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("index_no", _s(64), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("resource_version", sa.Integer(), nullable=True),
        sa.Column("url", _s(1000), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("peer", "remote_publication_id"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_peer", _s(64), nullable=True))
        batch_op.create_index(batch_op.f("ix_subscription_source_peer"), ["source_peer"], unique=False)
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_remote_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("provenance", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_publication_source_remote_id"), ["source_remote_id"], unique=False)
    with op.batch_alter_table("syndication_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_remote_id", sa.Integer(), nullable=True))
        batch_op.alter_column("source_publication_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_syndication_task_source_remote_id"), ["source_remote_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_syndication_task_source_remote_id_subscription_id"),
            ["source_remote_id", "subscription_id"],
        )


def downgrade() -> None:
    # Tasks of remote items have no local source and cannot survive the older schema.
    op.execute("DELETE FROM syndication_task WHERE source_publication_id IS NULL")
    with op.batch_alter_table("syndication_task", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_syndication_task_source_remote_id_subscription_id"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_syndication_task_source_remote_id"))
        batch_op.alter_column("source_publication_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("source_remote_id")
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_source_remote_id"))
        batch_op.drop_column("provenance")
        batch_op.drop_column("source_remote_id")
    op.execute("DELETE FROM subscription WHERE source_peer IS NOT NULL")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_source_peer"))
        batch_op.drop_column("source_peer")
    op.drop_table("remote_item")
