"""Column trees per site: kind, responsible editor, update interval, review chain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, SiteColumn
from services.content.schemas import ColumnCreate, ColumnOut, ColumnUpdate
from services.content.service.common import emit, touch
from services.content.vocab import ColumnKind
from services.kernel.clock import now
from services.kernel.errors import Conflict, NotFound, ValidationFailed
from services.kernel.roles import REVIEWER_ROLES, Role

DEFAULT_CHAIN = [Role.REVIEWER]


def validate_chain(chain: list[Role]) -> list[str]:
    """1 to 3 steps, each naming a reviewer kind of role: never the author's own kind (editor)."""
    if not 1 <= len(chain) <= 3:
        raise ValidationFailed.field("review_chain", "审核流程须有 1 至 3 个环节")
    for role in chain:
        if role not in REVIEWER_ROLES:
            raise ValidationFailed.field(
                "review_chain", f"审核环节的角色 {role} 无效，可选 {', '.join(REVIEWER_ROLES)}"
            )
    return [str(role) for role in chain]


def column_out(column: SiteColumn) -> ColumnOut:
    return ColumnOut(
        id=column.id or 0,
        site=column.site_id,
        parent_id=column.parent_id,
        name=column.name,
        code=column.code,
        kind=ColumnKind(column.kind),
        description=column.description,
        keywords=list(column.keywords),
        link_url=column.link_url,
        responsible_editor=column.responsible_editor,
        update_interval_days=column.update_interval_days,
        review_chain=list(column.review_chain),
        sort_order=column.sort_order,
        created_at=column.created_at,
        updated_at=column.updated_at,
    )


def _doc(column: SiteColumn) -> dict[str, object]:
    return column_out(column).model_dump(mode="json")


async def get_column(session: AsyncSession, site: str, column_id: int) -> SiteColumn:
    column = await session.get(SiteColumn, column_id)
    if column is None or column.site_id != site or column.deleted:
        raise NotFound(f"栏目 {column_id} 不存在")
    return column


async def list_columns(session: AsyncSession, site: str) -> list[SiteColumn]:
    stmt = (
        select(SiteColumn)
        .where(col(SiteColumn.site_id) == site, col(SiteColumn.deleted).is_(False))
        .order_by(col(SiteColumn.sort_order), col(SiteColumn.id))
    )
    return list((await session.execute(stmt)).scalars())


async def find_by_name(session: AsyncSession, site: str, name: str) -> SiteColumn | None:
    stmt = select(SiteColumn).where(
        col(SiteColumn.site_id) == site,
        col(SiteColumn.name) == name,
        col(SiteColumn.deleted).is_(False),
    )
    return (await session.execute(stmt)).scalars().first()


async def _check_parent(
    session: AsyncSession, site: str, column_id: int | None, parent_id: int | None
) -> None:
    """The parent must be on the same site and must not be the column itself or under it."""
    seen: set[int] = set()
    current = parent_id
    while current is not None:
        if current == column_id or current in seen:
            raise ValidationFailed.field("parent_id", "不能把栏目移动到它自己或它的下级栏目之下")
        seen.add(current)
        parent = await get_column(session, site, current)
        current = parent.parent_id


async def create_column(session: AsyncSession, site: str, body: ColumnCreate) -> SiteColumn:
    if body.kind == ColumnKind.LINK and not body.link_url:
        raise ValidationFailed.field("link_url", "链接栏目须给出链接地址")
    await _check_parent(session, site, None, body.parent_id)
    column = SiteColumn(
        site_id=site,
        parent_id=body.parent_id,
        name=body.name,
        code=body.code,
        kind=body.kind,
        description=body.description,
        keywords=list(body.keywords),
        link_url=body.link_url,
        responsible_editor=body.responsible_editor,
        update_interval_days=body.update_interval_days,
        review_chain=validate_chain(DEFAULT_CHAIN if body.review_chain is None else body.review_chain),
        sort_order=body.sort_order,
        created_at=now(),
        updated_at=now(),
    )
    session.add(column)
    await session.flush()
    await emit(session, "column.created", column.id or 0, _doc(column), site)
    touch(session, site)
    return column


_PLAIN = (
    "name",
    "code",
    "description",
    "link_url",
    "responsible_editor",
    "update_interval_days",
    "sort_order",
)


async def update_column(
    session: AsyncSession, site: str, column_id: int, changes: ColumnUpdate
) -> SiteColumn:
    column = await get_column(session, site, column_id)
    moved = "parent_id" in changes.model_fields_set and changes.parent_id != column.parent_id
    if moved:
        await _check_parent(session, site, column.id, changes.parent_id)
        column.parent_id = changes.parent_id
    if changes.kind is not None:
        column.kind = changes.kind
    if changes.review_chain is not None:
        column.review_chain = validate_chain(changes.review_chain)
    for name, value in changes.model_dump(include=set(_PLAIN), exclude_unset=True).items():
        if value is not None:
            setattr(column, name, value)
    if changes.keywords is not None:
        column.keywords = list(changes.keywords)
    column.updated_at = now()
    await session.flush()
    await emit(session, "column.moved" if moved else "column.updated", column.id or 0, _doc(column), site)
    touch(session, site)
    return column


async def delete_column(session: AsyncSession, site: str, column_id: int) -> None:
    column = await get_column(session, site, column_id)
    children = await session.execute(
        select(col(SiteColumn.id)).where(
            col(SiteColumn.parent_id) == column_id, col(SiteColumn.deleted).is_(False)
        )
    )
    if children.first():
        raise Conflict("栏目下还有子栏目，不能删除")
    used = await session.execute(
        select(col(Publication.id)).where(
            col(Publication.column_id) == column_id, col(Publication.site_id) == site
        )
    )
    if used.first():
        raise Conflict("栏目中还有信息，请先移走后再删除")
    column.deleted = True
    column.updated_at = now()
    await emit(session, "column.deleted", column_id, _doc(column), site)
    touch(session, site)
