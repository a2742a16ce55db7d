# mypy: ignore-errors
"""security incidents

Revision ID: oversight_0004
Revises: oversight_0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'oversight_0004'
down_revision: str | None = 'oversight_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('security_incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', S(length=64), nullable=False),
    sa.Column('kind', S(length=16), nullable=False),
    sa.Column('source', S(length=16), nullable=False),
    sa.Column('ref', S(length=64), nullable=True),
    sa.Column('url', S(length=1000), nullable=False),
    sa.Column('description', S(length=2000), nullable=False),
    sa.Column('recorded_by', S(length=128), nullable=False),
    sa.Column('opened_at', T, nullable=False),
    sa.Column('handled_at', T, nullable=True),
    sa.Column('handled_by', S(length=128), nullable=True),
    sa.Column('handling', S(length=2000), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_incident'))
    )
    with op.batch_alter_table('security_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_incident_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_incident_ref'), ['ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('security_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_incident_ref'))
        batch_op.drop_index(batch_op.f('ix_security_incident_site'))
    op.drop_table('security_incident')
