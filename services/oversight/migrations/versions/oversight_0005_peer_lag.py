# mypy: ignore-errors
"""peer feed lag alerts (federation reports a followed peer late and caught up)

Revision ID: oversight_0005
Revises: oversight_0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'oversight_0005'
down_revision: str | None = 'oversight_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('peer_lag_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('peer', S(length=64), nullable=False),
    sa.Column('lag_seconds', sa.Float(), nullable=False),
    sa.Column('detail', S(length=500), nullable=False),
    sa.Column('raised_at', T, nullable=False),
    sa.Column('updated_at', T, nullable=False),
    sa.Column('resolved_at', T, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_lag_alert'))
    )
    with op.batch_alter_table('peer_lag_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_lag_alert_peer'), ['peer'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('peer_lag_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_lag_alert_peer'))
    op.drop_table('peer_lag_alert')
