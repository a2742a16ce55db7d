# mypy: ignore-errors
"""footprint: a version's body stored once, zlib-compressed; its plain text derived when read

Revision ID: resources_0004_footprint
Revises: resources_0003

The codec is written out here rather than imported from services.kernel.columns, so this
revision keeps converting the same way whatever the kernel does later. The downgrade has to
recreate the text column, which only the service's own extractor can do exactly.
"""

import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'resources_0004_footprint'
down_revision: str | None = 'resources_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200


def _rows(bind, table) -> Iterator[Any]:
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.status, table.c.body_html)
            .where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()  # fmt: skip
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _rewrite(source: sa.types.TypeEngine, target: sa.types.TypeEngine, fill: Callable[[Any], dict]) -> None:
    bind = op.get_bind()
    table = sa.table(
        'resource_version', sa.column('id', sa.Integer), sa.column('status', sa.String),
        sa.column('body_html', source), sa.column('body_html_new', target), sa.column('body_text', sa.Text),
    )  # fmt: skip
    for row in _rows(bind, table):
        bind.execute(table.update().where(table.c.id == row.id).values(**fill(row)))


def upgrade() -> None:
    with op.batch_alter_table('resource_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html_new', sa.LargeBinary(), nullable=True))
    _rewrite(sa.Text(), sa.LargeBinary(), lambda r: {'body_html_new': zlib.compress(r.body_html.encode('utf-8'), 6)})
    with op.batch_alter_table('resource_version', schema=None) as batch_op:
        batch_op.drop_column('body_text')
        batch_op.drop_column('body_html')
        batch_op.alter_column('body_html_new', new_column_name='body_html', existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    from services.kernel.chinese import nfc
    from services.resources.review.markup import plain_text

    def fill(row: Any) -> dict:
        html = zlib.decompress(row.body_html).decode('utf-8')
        text = nfc(plain_text(html)) if row.status == 'stored' else ''
        return {'body_html_new': html, 'body_text': text}

    with op.batch_alter_table('resource_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html_new', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=True))
    _rewrite(sa.LargeBinary(), sa.Text(), fill)
    with op.batch_alter_table('resource_version', schema=None) as batch_op:
        batch_op.drop_column('body_html')
        batch_op.alter_column('body_html_new', new_column_name='body_html', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
