"""Taking a site offline (article 23): its content moves to the portal, a notice stays there.

Publications keep their ids, so `/items/{id}` keeps answering; asked on the old site it
redirects to the portal. The notice is a platform-written publication with an expiry at
least 30 days away.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, Site
from services.content.schemas import ColumnCreate, OfflineMigrationOut
from services.content.service import columns, sites
from services.content.service.publications import emit_state
from services.content.vocab import VISIBLE_STATES, FeedState, PublicationState, SiteKind, SiteStatus
from services.kernel.clock import SHANGHAI, now
from services.kernel.errors import Conflict

NOTICE_COLUMN = "通知公告"


async def target_portal(session: AsyncSession, site: Site, default_portal: str) -> Site:
    if site.parent_code:
        parent = await sites.get_site(session, site.parent_code)
        if parent.kind == SiteKind.PORTAL:
            return parent
    portal = await sites.get_site(session, default_portal)
    if portal.code == site.code:
        raise Conflict("门户网站自身不能下线迁移到自己；请先指定上级门户")
    return portal


async def take_offline(
    session: AsyncSession, code: str, actor: str, *, reason: str, portal_code: str, notice_days: int
) -> OfflineMigrationOut:
    site = await sites.get_site(session, code)
    portal = await target_portal(session, site, portal_code)
    await sites.change_status(session, code, SiteStatus.OFFLINE, actor, reason=reason)
    archive_name = f"{site.name}（已下线）"
    archive_column = await columns.find_by_name(
        session, portal.code, archive_name
    ) or await columns.create_column(
        session,
        portal.code,
        ColumnCreate(name=archive_name, description=f"{site.name}下线后迁移保存的信息"),
    )
    moved = (
        await session.execute(
            select(Publication).where(
                col(Publication.site_id) == code,
                col(Publication.status).in_(VISIBLE_STATES),
            )
        )
    ).scalars()
    moved_ids = []
    for publication in list(moved):
        publication.moved_from_site = code
        publication.site_id = portal.code
        publication.column_id = archive_column.id or 0
        publication.updated_at = now()
        moved_ids.append(publication.id or 0)
        await emit_state(session, publication, FeedState.MOVED)
    moment = now()
    expires = moment + timedelta(days=max(30, notice_days))
    notice_column = await columns.find_by_name(session, portal.code, NOTICE_COLUMN) or archive_column
    text = (
        f"根据政府网站管理有关规定，{site.name}（网站标识码 {site.id_code}）自"
        f"{moment.astimezone(SHANGHAI):%Y年%m月%d日}起下线。"
        f"原网站已发布的信息已迁移至本网站“{archive_name}”栏目，原链接自动跳转。"
        + (f"下线原因：{reason}。" if reason else "")
    )
    notice = Publication(
        site_id=portal.code,
        column_id=notice_column.id or 0,
        status=PublicationState.PUBLISHED,
        title=f"关于{site.name}下线的公告",
        body_html=f"<p>{escape(text)}</p>",
        body_text=text,
        meta={"genre": "公告", "source": portal.name, "notice_of_site": code},
        review_chain=[],
        created_by=actor,
        published_at=moment,
        expire_at=expires,
        created_at=moment,
        updated_at=moment,
    )
    session.add(notice)
    await emit_state(session, notice, FeedState.PUBLISHED)
    site.moved_to = portal.code
    site.notice = text
    await sites.record(session, site, "offline:migrated", actor, {"portal": portal.code, "moved": moved_ids})
    return OfflineMigrationOut(
        site=code,
        portal=portal.code,
        column_id=archive_column.id or 0,
        moved=moved_ids,
        notice_id=notice.id or 0,
        notice_expires_at=expires,
    )
