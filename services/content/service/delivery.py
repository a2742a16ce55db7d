"""What a hosted site's front end reads: published (and archived) content only, with `meta`.

Renders return (status, document, extra headers); the API layer serialises and caches them.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from services.content.delivery_schemas import (
    ColumnItemsOut,
    ColumnRefOut,
    InterpretationRefOut,
    MovedOut,
    PolicyRefOut,
    PublicColumnOut,
    PublicColumnsOut,
    PublicItemOut,
    PublicSiteOut,
    SummaryItemOut,
)
from services.content.models import Publication, Site, SiteColumn
from services.content.service.columns import get_column
from services.content.service.documents import item_url, meta_value, summary_of
from services.content.service.sites import get_site
from services.content.vocab import VISIBLE_STATES, ColumnKind, PublicationState, SiteKind, SiteStatus
from services.kernel.clock import SHANGHAI, aware
from services.kernel.errors import NotFound

Rendered = tuple[int, BaseModel, dict[str, str]]
ARCHIVED_LABEL = "已归档"


def site_meta(site: Site) -> dict[str, str]:
    return {
        "SiteName": site.name,
        "SiteDomain": site.domains[0] if site.domains else "",
        "SiteIDCode": site.id_code,
    }


def column_meta(column: SiteColumn) -> dict[str, str]:
    return {
        "ColumnName": column.name,
        "ColumnDescription": column.description,
        "ColumnKeywords": ",".join(column.keywords),
        "ColumnType": column.kind,
    }


def _pub_date(publication: Publication) -> str:
    value = aware(publication.published_at) if publication.published_at else None
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def _summary_item(publication: Publication) -> SummaryItemOut:
    item = SummaryItemOut(
        id=publication.id or 0,
        title=publication.title,
        summary=summary_of(publication),
        published_at=publication.published_at,
        index_no=publication.index_no,
        doc_no=meta_value(publication.meta, "doc_no"),
        url=item_url(publication.id),
    )
    if publication.status == PublicationState.ARCHIVED:
        item.archived = True
        item.archived_at = aware(publication.archived_at) if publication.archived_at else None
        item.label = ARCHIVED_LABEL
    return item


async def render_site(session: AsyncSession, code: str) -> Rendered:
    site = await get_site(session, code)
    doc = PublicSiteOut(
        code=site.code,
        name=site.name,
        kind=SiteKind(site.kind),
        domains=site.domains,
        id_code=site.id_code,
        host_org=site.host_org,
        operator_org=site.operator_org,
        icp_no=site.icp_no,
        psb_no=site.psb_no,
        status=SiteStatus(site.status),
        meta=site_meta(site),
    )
    return 200, doc, {}


async def render_columns(session: AsyncSession, code: str) -> Rendered:
    site = await get_site(session, code)
    stmt = (
        select(SiteColumn)
        .where(col(SiteColumn.site_id) == code, col(SiteColumn.deleted).is_(False))
        .order_by(col(SiteColumn.sort_order), col(SiteColumn.id))
    )
    items = [
        PublicColumnOut(
            id=c.id or 0,
            parent_id=c.parent_id,
            name=c.name,
            code=c.code,
            kind=ColumnKind(c.kind),
            description=c.description,
            keywords=c.keywords,
            link_url=c.link_url,
            url=f"/api/content/v1/columns/{c.id}/items",
        )
        for c in (await session.execute(stmt)).scalars()
    ]
    return 200, PublicColumnsOut(items=items, total=len(items), meta=site_meta(site)), {}


async def render_column_items(
    session: AsyncSession, code: str, column_id: int, page: int, size: int
) -> Rendered:
    site = await get_site(session, code)
    column = await get_column(session, code, column_id)
    where = (
        col(Publication.site_id) == code,
        col(Publication.column_id) == column_id,
        col(Publication.status).in_(VISIBLE_STATES),
    )
    total = (await session.execute(select(func.count()).select_from(Publication).where(*where))).scalar_one()
    stmt = (
        select(Publication)
        # a list shows summaries: inflating every item's HTML would be wasted work
        .options(defer(Publication.body_html, raiseload=True))  # type: ignore[arg-type]
        .where(*where)
        .order_by(col(Publication.published_at).desc(), col(Publication.id).desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    items = [_summary_item(p) for p in (await session.execute(stmt)).scalars()]
    doc = ColumnItemsOut(
        column=ColumnRefOut(
            id=column.id or 0, name=column.name, kind=ColumnKind(column.kind), parent_id=column.parent_id
        ),
        total=int(total),
        page=page,
        size=size,
        items=items,
        meta={**site_meta(site), **column_meta(column)},
    )
    return 200, doc, {}


async def _interpretations(session: AsyncSession, publication: Publication) -> list[InterpretationRefOut]:
    """Article 26: a policy lists its published interpretations."""
    if publication.resource_id is None:
        return []
    stmt = (
        select(Publication)
        .where(col(Publication.site_id) == publication.site_id, col(Publication.status).in_(VISIBLE_STATES))
        .where(col(Publication.interprets_resource_id) == publication.resource_id)
        .order_by(col(Publication.id))
    )
    return [
        InterpretationRefOut(id=p.id or 0, title=p.title, url=item_url(p.id), published_at=p.published_at)
        for p in (await session.execute(stmt)).scalars()
    ]


async def _policy(session: AsyncSession, publication: Publication) -> PolicyRefOut | None:
    """...and an interpretation names its policy."""
    if publication.interprets_resource_id is None:
        return None
    stmt = (
        select(Publication)
        .where(col(Publication.site_id) == publication.site_id, col(Publication.status).in_(VISIBLE_STATES))
        .where(col(Publication.resource_id) == publication.interprets_resource_id)
        .order_by(col(Publication.id).desc())
    )
    policy = (await session.execute(stmt)).scalars().first()
    return (
        None
        if policy is None
        else PolicyRefOut(id=policy.id or 0, title=policy.title, url=item_url(policy.id))
    )


async def render_item(session: AsyncSession, code: str, item_id: int) -> Rendered:
    publication = await session.get(Publication, item_id)
    if publication is not None and publication.site_id != code and publication.moved_from_site == code:
        location = f"/sites/{publication.site_id}/api/content/v1/items/{item_id}"
        return 308, MovedOut(moved_to=location, site=publication.site_id), {"location": location}
    if publication is None or publication.site_id != code or publication.status not in VISIBLE_STATES:
        raise NotFound(f"信息 {item_id} 不存在或未发布")
    site = await get_site(session, code)
    column = await session.get(SiteColumn, publication.column_id)
    source = meta_value(publication.meta, "source") or meta_value(publication.meta, "issuer_org") or site.name
    archived = publication.status == PublicationState.ARCHIVED
    doc = PublicItemOut(
        id=publication.id or 0,
        site=code,
        column_id=publication.column_id,
        title=publication.title,
        body_html=publication.body_html,
        index_no=publication.index_no,
        metadata=publication.meta,
        attachments=publication.attachments,
        published_at=publication.published_at,
        status=PublicationState(publication.status),
        archived=archived,
        archived_at=publication.archived_at,
        label=ARCHIVED_LABEL if archived else None,
        resource_id=publication.resource_id,
        resource_version=publication.resource_version,
        interpretations=await _interpretations(session, publication),
        policy=await _policy(session, publication),
        meta={
            **site_meta(site),
            **(column_meta(column) if column else {}),
            "ArticleTitle": publication.title,
            "PubDate": _pub_date(publication),
            "ContentSource": str(source),
            **provenance_meta(publication),
        },
    )
    return 200, doc, {}


def provenance_meta(publication: Publication) -> dict[str, str]:
    """Where a copy made from a peer platform's item came from, for the page's meta tags."""
    origin = publication.provenance
    if not origin:
        return {}
    out = {
        "SourcePlatform": str(origin.get("platform") or ""),
        "SourceSite": str(origin.get("site") or ""),
        "SourceUrl": str(origin.get("url") or ""),
    }
    if origin.get("resource_id") is not None:
        out["SourceResourceId"] = str(origin["resource_id"])
    return out
