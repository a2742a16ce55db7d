# mypy: ignore-errors
"""footprint: publication bodies stored zlib-compressed (one copy each of HTML and text)

Revision ID: content_0004_footprint
Revises: content_0003

The codec is written out here rather than imported from services.kernel.columns, so this
revision keeps converting the same way whatever the kernel does later.
"""

import zlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'content_0004_footprint'
down_revision: str | None = 'content_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('body_html', 'body_text')
BATCH = 200


def _convert(source: sa.types.TypeEngine, target: sa.types.TypeEngine, codec) -> None:
    """Copy every body into a new column of the target type through `codec`, then swap them."""
    with op.batch_alter_table('publication', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(f'{name}_new', target, nullable=True))
    bind = op.get_bind()
    table = sa.table(
        'publication', sa.column('id', sa.Integer),
        *(sa.column(n, source) for n in COLUMNS), *(sa.column(f'{n}_new', target) for n in COLUMNS),
    )  # fmt: skip
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, *(table.c[n] for n in COLUMNS))
            .where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()  # fmt: skip
        if not rows:
            break
        for row in rows:
            values = {f'{n}_new': codec(row._mapping[n]) for n in COLUMNS}
            bind.execute(table.update().where(table.c.id == row.id).values(**values))
        last = rows[-1].id
    # AutoString is a TypeDecorator batch mode cannot take as existing_type; it renders VARCHAR.
    existing = target if isinstance(target, sa.LargeBinary) else sa.String()
    with op.batch_alter_table('publication', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.drop_column(name)
        for name in COLUMNS:
            batch_op.alter_column(f'{name}_new', new_column_name=name, existing_type=existing, nullable=False)


def upgrade() -> None:
    _convert(sqlmodel.sql.sqltypes.AutoString(), sa.LargeBinary(), lambda v: zlib.compress((v or '').encode('utf-8'), 6))


def downgrade() -> None:
    _convert(sa.LargeBinary(), sqlmodel.sql.sqltypes.AutoString(), lambda v: zlib.decompress(v).decode('utf-8'))
