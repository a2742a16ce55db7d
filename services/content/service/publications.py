"""Placing stored resource versions in columns, editing drafts, listing and the review inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, ReviewRecord, Site, SiteColumn
from services.content.service.columns import get_column
from services.content.service.common import aware, emit, now, touch
from services.content.service.documents import interprets, reference_payload
from services.kernel.auth import Principal
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed

EDITABLE_STATES = ("draft",)
VISIBLE_STATES = ("published", "archived")


async def fetch_version(
    client: httpx.AsyncClient, resource_id: int, version: int, site: str
) -> dict[str, Any]:
    """The stored version from the resource library, as `site` may use it."""
    try:
        resp = await client.get(
            f"/api/resources/v1/resources/{resource_id}/versions/{version}", params={"for_site": site}
        )
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"信息资源库不可用: {exc}") from None
    if resp.status_code == 404:
        raise ValidationFailed.field(
            "resource_version", f"资源 {resource_id} 的版本 {version} 不存在，或本站无权使用该资源"
        )
    if resp.status_code == 409:
        raise Conflict(f"资源 {resource_id} 的版本 {version} 尚未入库，先入库后才能使用（先入库，后使用）")
    if resp.status_code != 200:
        raise ServiceUnavailable(f"信息资源库返回 {resp.status_code}")
    body: dict[str, Any] = resp.json()
    if body.get("status") not in (None, "stored"):
        raise Conflict(f"资源 {resource_id} 的版本 {version} 尚未入库（状态 {body.get('status')}）")
    return body


def apply_snapshot(publication: Publication, stored: dict[str, Any]) -> None:
    meta = dict(stored.get("metadata") or {})
    publication.resource_id = int(stored["resource_id"])
    publication.resource_version = int(stored["version"])
    publication.title = str(meta.get("title") or stored.get("title") or "").strip() or "（无标题）"
    publication.body_html = stored.get("body_html") or ""
    publication.body_text = stored.get("body_text") or ""
    publication.meta = meta
    publication.index_no = stored.get("index_no") or meta.get("index_no")
    publication.attachments = list(stored.get("attachments") or [])
    publication.interprets_resource_id = interprets(meta)


async def names_of(session: AsyncSession, publication: Publication) -> tuple[str, str]:
    site = (
        await session.execute(select(col(Site.name)).where(col(Site.code) == publication.site_id))
    ).scalar_one_or_none()
    column = await session.get(SiteColumn, publication.column_id)
    return site or publication.site_id, column.name if column else ""


async def emit_state(
    session: AsyncSession, publication: Publication, state: str, changed: tuple[str, ...] = ()
) -> None:
    await session.flush()
    doc = reference_payload(publication, changed)
    await emit(session, f"publication.{state}", publication.id or 0, doc, publication.site_id)
    touch(session, publication.site_id, publication.moved_from_site)


async def get_publication(session: AsyncSession, publication_id: int, site: str | None = None) -> Publication:
    publication = await session.get(Publication, publication_id)
    if publication is None or (site is not None and publication.site_id != site):
        raise NotFound(f"信息 {publication_id} 不存在")
    return publication


def _dt(value: Any) -> datetime | None:
    return aware(value) if isinstance(value, datetime) else None


async def create_publication(
    session: AsyncSession, client: httpx.AsyncClient, site: str, data: dict[str, Any], actor: str
) -> Publication:
    column = await get_column(session, site, data["column_id"])
    if column.kind == "link":
        raise ValidationFailed.field("column_id", "链接栏目不能发布信息")
    stored = await fetch_version(client, int(data["resource_id"]), int(data["resource_version"]), site)
    publication = Publication(
        site_id=site,
        column_id=column.id or 0,
        title="",
        important=bool(data.get("important", False)),
        publish_at=_dt(data.get("publish_at")),
        expire_at=_dt(data.get("expire_at")),
        review_chain=list(column.review_chain),
        created_by=actor,
        created_at=now(),
        updated_at=now(),
    )
    apply_snapshot(publication, stored)
    session.add(publication)
    await emit_state(session, publication, "created")
    return publication


async def update_publication(
    session: AsyncSession, client: httpx.AsyncClient, publication: Publication, changes: dict[str, Any]
) -> Publication:
    """Drafts are edited freely; a live item may only move column; archived items never change."""
    if publication.status == "archived":
        raise Conflict("已归档的信息不能修改")
    moved = changes.get("column_id") is not None and changes["column_id"] != publication.column_id
    content_change = any(
        changes.get(k) is not None
        for k in ("resource_version", "resource_id", "important", "publish_at", "expire_at")
    )
    if content_change and publication.status not in EDITABLE_STATES:
        raise Conflict(f"信息当前状态为 {publication.status}，只有草稿可以修改；请撤回后重新提交审核")
    if moved:
        column = await get_column(session, publication.site_id, changes["column_id"])
        if column.kind == "link":
            raise ValidationFailed.field("column_id", "链接栏目不能发布信息")
        publication.column_id = column.id or 0
    if changes.get("resource_version") is not None:
        resource_id = int(changes.get("resource_id") or publication.resource_id or 0)
        stored = await fetch_version(
            client, resource_id, int(changes["resource_version"]), publication.site_id
        )
        apply_snapshot(publication, stored)
    if changes.get("important") is not None:
        publication.important = bool(changes["important"])
    for name in ("publish_at", "expire_at"):
        if name in changes:
            setattr(publication, name, _dt(changes[name]))
    publication.updated_at = now()
    changed = tuple(k for k, v in changes.items() if v is not None)
    await emit_state(session, publication, "moved" if moved and not content_change else "updated", changed)
    return publication


async def list_publications(
    session: AsyncSession,
    site: str,
    *,
    status: str | None,
    column_id: int | None,
    offset: int,
    limit: int,
) -> tuple[list[Publication], int]:
    from services.kernel.pagination import PageParams, paginate

    stmt = select(Publication).where(col(Publication.site_id) == site)
    if status:
        stmt = stmt.where(col(Publication.status) == status)
    if column_id is not None:
        stmt = stmt.where(col(Publication.column_id) == column_id)
    stmt = stmt.order_by(col(Publication.id).desc())
    rows, total = await paginate(session, stmt, PageParams(page=offset // limit + 1, size=limit))
    return rows, total


async def reviews_of(session: AsyncSession, publication_id: int) -> list[ReviewRecord]:
    stmt = (
        select(ReviewRecord)
        .where(col(ReviewRecord.publication_id) == publication_id)
        .order_by(col(ReviewRecord.id))
    )
    return list((await session.execute(stmt)).scalars())


def inbox_filter(principal: Principal) -> Any:
    """Items in review whose pending role the caller holds on the item's site, on any site."""
    if principal.is_internal:
        return col(Publication.status) == "in_review"
    clauses = []
    for role in {b.role for b in principal.roles}:
        sites = principal.sites_with(role)
        if None in sites or principal.has_role("platform_admin"):
            clauses.append(col(Publication.pending_role) == role)
        else:
            clauses.append(and_(col(Publication.pending_role) == role, col(Publication.site_id).in_(sites)))
    if principal.has_role("platform_admin"):
        clauses.append(col(Publication.pending_role) == "platform_admin")
    return and_(col(Publication.status) == "in_review", or_(*clauses) if clauses else false())


async def inbox(
    session: AsyncSession, principal: Principal, offset: int, limit: int
) -> tuple[list[Publication], int]:
    from services.kernel.pagination import PageParams, paginate

    stmt = (
        select(Publication)
        .where(inbox_filter(principal))
        .where(or_(col(Publication.submitted_by).is_(None), col(Publication.submitted_by) != principal.sub))
        .where(
            ~select(col(ReviewRecord.id))
            .where(
                col(ReviewRecord.publication_id) == col(Publication.id),
                col(ReviewRecord.review_round) == col(Publication.review_round),
                col(ReviewRecord.actor) == principal.sub,
                col(ReviewRecord.action) == "approve",
            )
            .exists()
        )
        .order_by(col(Publication.updated_at), col(Publication.id))
    )
    return await paginate(session, stmt, PageParams(page=offset // limit + 1, size=limit))
