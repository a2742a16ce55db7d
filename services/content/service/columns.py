"""Column trees per site: kind, responsible editor, update interval, review chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import SiteColumn
from services.content.service.common import emit, iso, now, touch
from services.kernel.errors import Conflict, NotFound, ValidationFailed

KINDS = ("list", "single", "link")
REVIEW_ROLES = ("reviewer", "site_admin", "editor", "auditor", "platform_admin")
DEFAULT_CHAIN = ["reviewer"]


def validate_chain(chain: list[str]) -> list[str]:
    if not 1 <= len(chain) <= 3:
        raise ValidationFailed.field("review_chain", "审核流程须有 1 至 3 个环节")
    for role in chain:
        if role not in REVIEW_ROLES:
            raise ValidationFailed.field(
                "review_chain", f"审核环节的角色 {role} 无效，可选 {', '.join(REVIEW_ROLES)}"
            )
    return list(chain)


def column_json(column: SiteColumn) -> dict[str, Any]:
    return {
        "id": column.id,
        "site": column.site_id,
        "parent_id": column.parent_id,
        "name": column.name,
        "code": column.code,
        "kind": column.kind,
        "description": column.description,
        "keywords": list(column.keywords),
        "link_url": column.link_url,
        "responsible_editor": column.responsible_editor,
        "update_interval_days": column.update_interval_days,
        "review_chain": list(column.review_chain),
        "sort_order": column.sort_order,
        "created_at": iso(column.created_at),
        "updated_at": iso(column.updated_at),
    }


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


async def create_column(session: AsyncSession, site: str, data: dict[str, Any]) -> SiteColumn:
    kind = data.get("kind") or "list"
    if kind not in KINDS:
        raise ValidationFailed.field("kind", "栏目类型须为 list、single 或 link")
    if kind == "link" and not data.get("link_url"):
        raise ValidationFailed.field("link_url", "链接栏目须给出链接地址")
    await _check_parent(session, site, None, data.get("parent_id"))
    column = SiteColumn(
        site_id=site,
        parent_id=data.get("parent_id"),
        name=data["name"],
        code=data.get("code") or "",
        kind=kind,
        description=data.get("description") or "",
        keywords=list(data.get("keywords") or []),
        link_url=data.get("link_url"),
        responsible_editor=data.get("responsible_editor"),
        update_interval_days=data.get("update_interval_days"),
        review_chain=validate_chain(data.get("review_chain") or DEFAULT_CHAIN),
        sort_order=data.get("sort_order") or 0,
        created_at=now(),
        updated_at=now(),
    )
    session.add(column)
    await session.flush()
    await emit(session, "column.created", column.id or 0, column_json(column), site)
    touch(session, site)
    return column


async def update_column(
    session: AsyncSession, site: str, column_id: int, changes: dict[str, Any]
) -> SiteColumn:
    column = await get_column(session, site, column_id)
    moved = "parent_id" in changes and changes["parent_id"] != column.parent_id
    if moved:
        await _check_parent(session, site, column.id, changes["parent_id"])
        column.parent_id = changes["parent_id"]
    if changes.get("kind") is not None:
        if changes["kind"] not in KINDS:
            raise ValidationFailed.field("kind", "栏目类型须为 list、single 或 link")
        column.kind = changes["kind"]
    if changes.get("review_chain") is not None:
        column.review_chain = validate_chain(changes["review_chain"])
    for name in (
        "name",
        "code",
        "description",
        "link_url",
        "responsible_editor",
        "update_interval_days",
        "sort_order",
    ):
        if name in changes and changes[name] is not None:
            setattr(column, name, changes[name])
    if changes.get("keywords") is not None:
        column.keywords = list(changes["keywords"])
    column.updated_at = now()
    await session.flush()
    await emit(
        session, "column.moved" if moved else "column.updated", column.id or 0, column_json(column), site
    )
    touch(session, site)
    return column


async def delete_column(session: AsyncSession, site: str, column_id: int) -> None:
    from services.content.models import Publication

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
    await emit(session, "column.deleted", column_id, column_json(column), site)
    touch(session, site)
