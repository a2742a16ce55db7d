"""Placing stored resource versions in columns, editing drafts, listing and the review inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, ReviewRecord, Site, SiteColumn
from services.content.schemas import IndexDocumentOut, PublicationCreate, PublicationUpdate
from services.content.service.columns import get_column
from services.content.service.common import emit, touch
from services.content.service.documents import index_document, interprets, reference_payload
from services.content.vocab import (
    EDITABLE_STATES,
    VISIBLE_STATES,
    ColumnKind,
    FeedState,
    PublicationState,
    RecordAction,
)
from services.kernel.auth import Principal
from services.kernel.clock import aware, now
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from services.kernel.pagination import PageParams, paginate
from services.kernel.roles import Role


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
    session: AsyncSession, publication: Publication, state: FeedState, changed: tuple[str, ...] = ()
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


def _dt(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


async def _placeable(session: AsyncSession, site: str, column_id: int) -> SiteColumn:
    column = await get_column(session, site, column_id)
    if column.kind == ColumnKind.LINK:
        raise ValidationFailed.field("column_id", "链接栏目不能发布信息")
    return column


async def create_publication(
    session: AsyncSession, client: httpx.AsyncClient, site: str, body: PublicationCreate, actor: str
) -> Publication:
    column = await _placeable(session, site, body.column_id)
    stored = await fetch_version(client, body.resource_id, body.resource_version, site)
    publication = Publication(
        site_id=site,
        column_id=column.id or 0,
        title="",
        important=body.important,
        publish_at=_dt(body.publish_at),
        expire_at=_dt(body.expire_at),
        review_chain=list(column.review_chain),
        created_by=actor,
        created_at=now(),
        updated_at=now(),
    )
    apply_snapshot(publication, stored)
    session.add(publication)
    await emit_state(session, publication, FeedState.CREATED)
    return publication


async def update_publication(
    session: AsyncSession, client: httpx.AsyncClient, publication: Publication, changes: PublicationUpdate
) -> Publication:
    """Drafts are edited freely; a live item may only move column; archived items never change."""
    if publication.status == PublicationState.ARCHIVED:
        raise Conflict("已归档的信息不能修改")
    moved = changes.column_id is not None and changes.column_id != publication.column_id
    content_change = any(
        v is not None
        for v in (
            changes.resource_version,
            changes.resource_id,
            changes.important,
            changes.publish_at,
            changes.expire_at,
        )
    )
    if content_change and publication.status not in EDITABLE_STATES:
        raise Conflict(f"信息当前状态为 {publication.status}，只有草稿可以修改；请撤回后重新提交审核")
    if changes.column_id is not None and moved:
        column = await _placeable(session, publication.site_id, changes.column_id)
        publication.column_id = column.id or 0
    if changes.resource_version is not None:
        resource_id = changes.resource_id or publication.resource_id or 0
        stored = await fetch_version(client, resource_id, changes.resource_version, publication.site_id)
        apply_snapshot(publication, stored)
    if changes.important is not None:
        publication.important = changes.important
    if "publish_at" in changes.model_fields_set:
        publication.publish_at = _dt(changes.publish_at)
    if "expire_at" in changes.model_fields_set:
        publication.expire_at = _dt(changes.expire_at)
    publication.updated_at = now()
    changed = tuple(sorted(changes.model_fields_set))
    await emit_state(
        session, publication, FeedState.MOVED if moved and not content_change else FeedState.UPDATED, changed
    )
    return publication


async def list_publications(
    session: AsyncSession,
    site: str,
    *,
    status: PublicationState | None,
    column_id: int | None,
    page: PageParams,
) -> tuple[list[Publication], int]:
    stmt = select(Publication).where(col(Publication.site_id) == site)
    if status:
        stmt = stmt.where(col(Publication.status) == status)
    if column_id is not None:
        stmt = stmt.where(col(Publication.column_id) == column_id)
    stmt = stmt.order_by(col(Publication.id).desc())
    return await paginate(session, stmt, page)


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
        return col(Publication.status) == PublicationState.IN_REVIEW
    clauses = []
    for role in {b.role for b in principal.roles}:
        sites = principal.sites_with(role)
        if None in sites or principal.has_role(Role.PLATFORM_ADMIN):
            clauses.append(col(Publication.pending_role) == role)
        else:
            clauses.append(and_(col(Publication.pending_role) == role, col(Publication.site_id).in_(sites)))
    if principal.has_role(Role.PLATFORM_ADMIN):
        clauses.append(col(Publication.pending_role) == Role.PLATFORM_ADMIN)
    return and_(col(Publication.status) == PublicationState.IN_REVIEW, or_(*clauses) if clauses else false())


async def inbox(
    session: AsyncSession, principal: Principal, page: PageParams
) -> tuple[list[Publication], int]:
    stmt = (
        select(Publication)
        .where(inbox_filter(principal))
        .where(or_(col(Publication.submitted_by).is_(None), col(Publication.submitted_by) != principal.sub))
        .where(col(Publication.created_by) != principal.sub)
        .where(
            ~select(col(ReviewRecord.id))
            .where(
                col(ReviewRecord.publication_id) == col(Publication.id),
                col(ReviewRecord.review_round) == col(Publication.review_round),
                col(ReviewRecord.actor) == principal.sub,
                col(ReviewRecord.action) == RecordAction.APPROVE,
            )
            .exists()
        )
        .order_by(col(Publication.updated_at), col(Publication.id))
    )
    return await paginate(session, stmt, page)


async def index_documents(
    session: AsyncSession, after: int, limit: int, ids: list[int] | None = None
) -> tuple[list[IndexDocumentOut], int]:
    """Visible publications with ids above `after`, as index documents, and the next cursor; with
    `ids`, those publications' current documents in any state (feed consumers resolving the
    references a batch of events carries)."""
    if ids is not None:
        stmt = (
            select(Publication).where(col(Publication.id).in_(sorted(set(ids)))).order_by(col(Publication.id))
        )
    else:
        stmt = (
            select(Publication)
            .where(col(Publication.id) > after, col(Publication.status).in_(VISIBLE_STATES))
            .order_by(col(Publication.id))
            .limit(limit)
        )
    rows = list((await session.execute(stmt)).scalars())
    site_names = {row[0]: row[1] for row in await session.execute(select(col(Site.code), col(Site.name)))}
    column_names: dict[int, str] = {}
    if rows:
        stmt_columns = select(col(SiteColumn.id), col(SiteColumn.name)).where(
            col(SiteColumn.id).in_({p.column_id for p in rows})
        )
        column_names = {row[0]: row[1] for row in await session.execute(stmt_columns) if row[0] is not None}
    items = [
        index_document(p, site_names.get(p.site_id, p.site_id), column_names.get(p.column_id, ""))
        for p in rows
    ]
    return items, (rows[-1].id or after) if rows else after
