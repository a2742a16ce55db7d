# mypy: ignore-errors
"""footprint: a search document's payload (it holds the body text) stored zlib-compressed

Revision ID: search_0003_footprint
Revises: search_0002

The codec is written out here rather than imported from services.kernel.columns, so this
revision keeps converting the same way whatever the kernel does later.
"""

import json
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'search_0003_footprint'
down_revision: str | None = 'search_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200


def _pack(value) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(',', ':')).encode('utf-8'), 6)


def _convert(source, target, codec) -> None:
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_new', target, nullable=True))
    bind = op.get_bind()
    table = sa.table(
        'search_document', sa.column('publication_id', sa.Integer),
        sa.column('payload', source), sa.column('payload_new', target),
    )  # fmt: skip
    last = None
    while True:
        query = sa.select(table.c.publication_id, table.c.payload).order_by(table.c.publication_id).limit(BATCH)
        if last is not None:
            query = query.where(table.c.publication_id > last)
        rows = bind.execute(query).all()
        if not rows:
            break
        for row in rows:
            bind.execute(
                table.update().where(table.c.publication_id == row.publication_id).values(payload_new=codec(row.payload))
            )
        last = rows[-1].publication_id
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_column('payload')
        batch_op.alter_column('payload_new', new_column_name='payload', existing_type=target, nullable=False)


def upgrade() -> None:
    _convert(sa.JSON(), sa.LargeBinary(), _pack)


def downgrade() -> None:
    _convert(sa.LargeBinary(), sa.JSON(), lambda v: json.loads(zlib.decompress(v).decode('utf-8')))
