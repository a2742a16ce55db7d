"""What a hosted site's front end reads: published (and archived) content only, with `meta`.

Renders return (status, document, extra headers); the API layer serialises and caches them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, Site, SiteColumn
from services.content.service.common import SHANGHAI, aware, iso
from services.content.service.documents import meta_value, summary_of
from services.content.service.publications import VISIBLE_STATES
from services.kernel.errors import NotFound

Rendered = tuple[int, dict[str, Any], dict[str, str]]
ARCHIVED_LABEL = "已归档"


async def _site(session: AsyncSession, code: str) -> Site:
    site = (await session.execute(select(Site).where(col(Site.code) == code))).scalar_one_or_none()
    if site is None:
        raise NotFound(f"站点 {code} 不存在")
    return site


def site_meta(site: Site) -> dict[str, Any]:
    return {
        "SiteName": site.name,
        "SiteDomain": site.domains[0] if site.domains else "",
        "SiteIDCode": site.id_code,
    }


def column_meta(column: SiteColumn) -> dict[str, Any]:
    return {
        "ColumnName": column.name,
        "ColumnDescription": column.description,
        "ColumnKeywords": ",".join(column.keywords),
        "ColumnType": column.kind,
    }


def _pub_date(publication: Publication) -> str:
    value = aware(publication.published_at)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def _summary_item(publication: Publication) -> dict[str, Any]:
    item = {
        "id": publication.id,
        "title": publication.title,
        "summary": summary_of(publication),
        "published_at": iso(publication.published_at),
        "index_no": publication.index_no,
        "doc_no": meta_value(publication.meta, "doc_no"),
        "url": f"/api/content/v1/items/{publication.id}",
    }
    if publication.status == "archived":
        item.update(archived=True, archived_at=iso(publication.archived_at), label=ARCHIVED_LABEL)
    return item


async def render_site(session: AsyncSession, code: str) -> Rendered:
    site = await _site(session, code)
    doc = {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "domains": site.domains,
        "id_code": site.id_code,
        "host_org": site.host_org,
        "operator_org": site.operator_org,
        "icp_no": site.icp_no,
        "psb_no": site.psb_no,
        "status": site.status,
        "meta": site_meta(site),
    }
    return 200, doc, {}


async def render_columns(session: AsyncSession, code: str) -> Rendered:
    site = await _site(session, code)
    stmt = (
        select(SiteColumn)
        .where(col(SiteColumn.site_id) == code, col(SiteColumn.deleted).is_(False))
        .order_by(col(SiteColumn.sort_order), col(SiteColumn.id))
    )
    items = [
        {
            "id": c.id,
            "parent_id": c.parent_id,
            "name": c.name,
            "code": c.code,
            "kind": c.kind,
            "description": c.description,
            "keywords": c.keywords,
            "link_url": c.link_url,
            "url": f"/api/content/v1/columns/{c.id}/items",
        }
        for c in (await session.execute(stmt)).scalars()
    ]
    return 200, {"items": items, "total": len(items), "meta": site_meta(site)}, {}


async def _visible_column(session: AsyncSession, code: str, column_id: int) -> SiteColumn:
    column = await session.get(SiteColumn, column_id)
    if column is None or column.site_id != code or column.deleted:
        raise NotFound(f"栏目 {column_id} 不存在")
    return column


async def render_column_items(
    session: AsyncSession, code: str, column_id: int, page: int, size: int
) -> Rendered:
    site = await _site(session, code)
    column = await _visible_column(session, code, column_id)
    where = (
        col(Publication.site_id) == code,
        col(Publication.column_id) == column_id,
        col(Publication.status).in_(VISIBLE_STATES),
    )
    total = (await session.execute(select(func.count()).select_from(Publication).where(*where))).scalar_one()
    stmt = (
        select(Publication)
        .where(*where)
        .order_by(col(Publication.published_at).desc(), col(Publication.id).desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    items = [_summary_item(p) for p in (await session.execute(stmt)).scalars()]
    doc = {
        "column": {"id": column.id, "name": column.name, "kind": column.kind, "parent_id": column.parent_id},
        "total": int(total),
        "page": page,
        "size": size,
        "items": items,
        "meta": {**site_meta(site), **column_meta(column)},
    }
    return 200, doc, {}


async def _related(session: AsyncSession, publication: Publication) -> dict[str, Any]:
    """Article 26: a policy lists its published interpretations; an interpretation its policy."""
    out: dict[str, Any] = {"interpretations": [], "policy": None}
    visible = col(Publication.status).in_(VISIBLE_STATES)
    if publication.resource_id is not None:
        stmt = (
            select(Publication)
            .where(col(Publication.site_id) == publication.site_id, visible)
            .where(col(Publication.interprets_resource_id) == publication.resource_id)
            .order_by(col(Publication.id))
        )
        out["interpretations"] = [
            {
                "id": p.id,
                "title": p.title,
                "url": f"/api/content/v1/items/{p.id}",
                "published_at": iso(p.published_at),
            }
            for p in (await session.execute(stmt)).scalars()
        ]
    if publication.interprets_resource_id is not None:
        stmt = (
            select(Publication)
            .where(col(Publication.site_id) == publication.site_id, visible)
            .where(col(Publication.resource_id) == publication.interprets_resource_id)
            .order_by(col(Publication.id).desc())
        )
        policy = (await session.execute(stmt)).scalars().first()
        if policy is not None:
            out["policy"] = {
                "id": policy.id,
                "title": policy.title,
                "url": f"/api/content/v1/items/{policy.id}",
            }
    return out


async def render_item(session: AsyncSession, code: str, item_id: int) -> Rendered:
    publication = await session.get(Publication, item_id)
    if publication is not None and publication.site_id != code and publication.moved_from_site == code:
        location = f"/sites/{publication.site_id}/api/content/v1/items/{item_id}"
        return 308, {"moved_to": location, "site": publication.site_id}, {"location": location}
    if publication is None or publication.site_id != code or publication.status not in VISIBLE_STATES:
        raise NotFound(f"信息 {item_id} 不存在或未发布")
    site = await _site(session, code)
    column = await session.get(SiteColumn, publication.column_id)
    source = meta_value(publication.meta, "source") or meta_value(publication.meta, "issuer_org") or site.name
    doc: dict[str, Any] = {
        "id": publication.id,
        "site": code,
        "column_id": publication.column_id,
        "title": publication.title,
        "body_html": publication.body_html,
        "index_no": publication.index_no,
        "metadata": publication.meta,
        "attachments": publication.attachments,
        "published_at": iso(publication.published_at),
        "status": publication.status,
        "archived": publication.status == "archived",
        "archived_at": iso(publication.archived_at),
        "label": ARCHIVED_LABEL if publication.status == "archived" else None,
        "resource_id": publication.resource_id,
        "resource_version": publication.resource_version,
        **await _related(session, publication),
        "meta": {
            **site_meta(site),
            **(column_meta(column) if column else {}),
            "ArticleTitle": publication.title,
            "PubDate": _pub_date(publication),
            "ContentSource": source,
        },
    }
    return 200, doc, {}
