# mypy: ignore-errors
"""transcripts: an archived interview's transcript as a content publication

Revision ID: interaction_0008_transcripts
Revises: interaction_0007_subscriptions

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'interaction_0008_transcripts'
down_revision: str | None = 'interaction_0007_subscriptions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
COLUMNS = [
    ('column_id', sa.Integer()),
    ('transcript_state', S(length=16)),
    ('transcript_column_id', sa.Integer()),
    ('transcript_resource_id', sa.Integer()),
    ('transcript_resource_version', sa.Integer()),
    ('transcript_publication_id', sa.Integer()),
    ('transcript_published_url', S(length=1000)),
    ('transcript_next_at', sa.Float()),
]


def upgrade() -> None:
    with op.batch_alter_table('interview') as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.add_column(sa.Column('transcript_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('transcript_error', S(length=500), nullable=False, server_default=''))
    op.create_index('ix_interview_transcript_state', 'interview', ['transcript_state'])
    op.create_index('ix_interview_transcript_publication_id', 'interview', ['transcript_publication_id'])


def downgrade() -> None:
    op.drop_index('ix_interview_transcript_publication_id', table_name='interview')
    op.drop_index('ix_interview_transcript_state', table_name='interview')
    with op.batch_alter_table('interview') as batch:
        for name in ['transcript_error', 'transcript_attempts', *reversed([n for n, _ in COLUMNS])]:
            batch.drop_column(name)
