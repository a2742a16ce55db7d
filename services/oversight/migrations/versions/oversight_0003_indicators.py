# mypy: ignore-errors
"""availability probes, watched letters, link findings, annual report entries and drafts, sent notices

Revision ID: oversight_0003
Revises: oversight_0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'oversight_0003'
down_revision: str | None = 'oversight_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('probe_result',
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('at', T, nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('elapsed_ms', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('site', 'at', name=op.f('pk_probe_result'))
    )
    op.create_table('watched_letter',
    sa.Column('letter_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('kind', S(length=16), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('received_at', T, nullable=False),
    sa.Column('replied_at', T, nullable=True),
    sa.Column('closed_at', T, nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('letter_id', name=op.f('pk_watched_letter'))
    )
    with op.batch_alter_table('watched_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watched_letter_site'), ['site'], unique=False)
    op.create_table('link_finding',
    sa.Column('publication_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('url', S(length=1000), nullable=False),
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('broken', sa.Boolean(), nullable=False),
    sa.Column('detail', S(length=200), nullable=False),
    sa.Column('since', T, nullable=False),
    sa.Column('checked_at', T, nullable=False),
    sa.PrimaryKeyConstraint('publication_id', 'url', name=op.f('pk_link_finding'))
    )
    with op.batch_alter_table('link_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_finding_site'), ['site'], unique=False)
    op.create_table('report_entry',
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('key', S(length=64), nullable=False),
    sa.Column('value', S(length=600), nullable=False),
    sa.Column('entered_by', S(length=128), nullable=False),
    sa.Column('entered_at', T, nullable=False),
    sa.PrimaryKeyConstraint('site', 'year', 'key', name=op.f('pk_report_entry'))
    )
    op.create_table('report_entry_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('key', S(length=64), nullable=False),
    sa.Column('old_value', S(length=600), nullable=True),
    sa.Column('new_value', S(length=600), nullable=False),
    sa.Column('actor', S(length=128), nullable=False),
    sa.Column('at', T, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_entry_change'))
    )
    with op.batch_alter_table('report_entry_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_entry_change_site'), ['site'], unique=False)
    op.create_table('report_draft',
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('created_at', T, nullable=False),
    sa.PrimaryKeyConstraint('site', 'year', name=op.f('pk_report_draft'))
    )
    op.create_table('notice_sent',
    sa.Column('alert_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('event', S(length=16), nullable=False),
    sa.Column('recipients', S(length=2000), nullable=False),
    sa.Column('sent_at', T, nullable=False),
    sa.PrimaryKeyConstraint('alert_id', 'event', name=op.f('pk_notice_sent'))
    )


def downgrade() -> None:
    op.drop_table('notice_sent')
    op.drop_table('report_draft')
    with op.batch_alter_table('report_entry_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_entry_change_site'))
    op.drop_table('report_entry_change')
    op.drop_table('report_entry')
    with op.batch_alter_table('link_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_finding_site'))
    op.drop_table('link_finding')
    with op.batch_alter_table('watched_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watched_letter_site'))
    op.drop_table('watched_letter')
    op.drop_table('probe_result')
