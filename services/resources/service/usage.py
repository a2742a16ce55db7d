"""The usage register (统一监管): which publications pin which resource, and retiring safely."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from services.kernel.feed import FeedEvent, emit
from services.kernel.pagination import PageParams, paginate
from services.resources.models import Resource, RetireAudit, Usage, feed_tables
from services.resources.schemas import RetirementOut
from services.resources.service.access import may_read
from services.resources.service.resources import event_payload, get_resource, get_version, writable_resource

LIVE = "published"


async def apply_publication_event(session: AsyncSession, event: FeedEvent) -> None:
    """Idempotent: an event older than the one already applied for that publication is ignored."""
    payload = event.payload
    pub_id = payload.get("publication_id")
    resource_id = payload.get("resource_id")
    if pub_id is None or resource_id is None:
        return
    row = await session.get(Usage, int(pub_id))
    if row is not None and row.event_cursor >= event.cursor:
        return
    if row is None:
        row = Usage(
            publication_id=int(pub_id),
            resource_id=int(resource_id),
            resource_version=0,
            site="",
            status="",
            event_cursor=event.cursor,
            updated_at=epoch(),
        )
    row.resource_id = int(resource_id)
    row.resource_version = int(payload.get("resource_version") or 0)
    row.site = str(payload.get("site") or event.site_id or "")
    row.column_id = payload.get("column_id")
    row.status = str(payload.get("status") or event.topic.removeprefix("publication."))
    row.title = str(payload.get("title") or "")[:300]
    row.event_cursor = event.cursor
    row.updated_at = epoch()
    session.add(row)


async def retire_absent_usages(session: AsyncSession, live: set[int], cursor: int) -> None:
    """After a rebuild from content's snapshot: rows still live here but absent there."""
    rows = (await session.execute(select(Usage).where(col(Usage.status).in_((LIVE, "archived"))))).scalars()
    for row in rows:
        if row.publication_id not in live and row.event_cursor < cursor:
            row.status = "withdrawn"
            row.event_cursor = cursor
            row.updated_at = epoch()
            session.add(row)


async def list_usages(
    session: AsyncSession, principal: Principal, resource_id: int, params: PageParams
) -> tuple[list[Usage], int]:
    resource = await get_resource(session, resource_id)
    if not may_read(principal, resource):  # the register names the sites' publications
        raise NotFound(f"资源 {resource_id} 不存在")
    stmt = select(Usage).where(col(Usage.resource_id) == resource_id).order_by(col(Usage.publication_id))
    return await paginate(session, stmt, params)


async def _withdraw(content: httpx.AsyncClient, publication_id: int, reason: str) -> None:
    try:
        resp = await content.post(
            f"/api/content/v1/publications/{publication_id}/withdraw", json={"reason": f"资源废止: {reason}"}
        )
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"撤回发布 {publication_id} 失败: {type(exc).__name__}") from exc
    # 409: already withdrawn or archived, which is what we want.
    if resp.status_code >= 400 and resp.status_code != 409:
        raise ServiceUnavailable(f"撤回发布 {publication_id} 失败: 内容服务返回 {resp.status_code}")


async def retire_resource(
    session: AsyncSession,
    principal: Principal,
    resource_id: int,
    reason: str,
    *,
    force: bool,
    content: httpx.AsyncClient | None,
) -> tuple[Resource, list[int]]:
    resource = await writable_resource(session, principal, resource_id)
    if resource.status == "retired":
        raise Conflict(f"资源 {resource_id} 已废止")
    live = list(
        (
            await session.execute(
                select(Usage).where(col(Usage.resource_id) == resource_id, col(Usage.status) == LIVE)
            )
        ).scalars()
    )
    withdrawn: list[int] = []
    if live:
        ids = [u.publication_id for u in live]
        if not force:
            raise Conflict(
                f"资源仍被 {len(live)} 个发布使用，不能废止；平台管理员可强制废止并撤回这些发布",
                extra={"publications": ids},
            )
        if not principal.has_role("platform_admin"):
            raise Forbidden("强制废止需要平台管理员")
        if content is None:
            raise ServiceUnavailable("无法联系内容服务撤回发布")
        for usage in live:
            await _withdraw(content, usage.publication_id, reason)
            usage.status = "withdrawn"
            usage.updated_at = epoch()
            session.add(usage)
            withdrawn.append(usage.publication_id)
    ts = epoch()
    resource.status = "retired"
    resource.retired_at = ts
    resource.updated_at = ts
    session.add(resource)
    session.add(
        RetireAudit(
            resource_id=resource_id,
            actor=principal.sub,
            actor_name=principal.name,
            reason=reason,
            forced=bool(live),
            withdrawn=withdrawn,
            at=ts,
        )
    )
    title = ""
    if resource.stored_version:
        title = (await get_version(session, resource_id, resource.stored_version)).meta.get("title", "")
    await emit(
        session,
        feed_tables,
        "resource.retired",
        resource_id,
        event_payload(resource, resource.stored_version or resource.latest_version, title),
        resource.owner_site,
    )
    return resource, withdrawn


async def retire_audit(session: AsyncSession, principal: Principal, resource_id: int) -> list[RetirementOut]:
    resource = await get_resource(session, resource_id)
    if not (may_read(principal, resource) or principal.has_role("audit_admin")):
        raise NotFound(f"资源 {resource_id} 不存在")
    rows = (
        await session.execute(
            select(RetireAudit)
            .where(col(RetireAudit.resource_id) == resource_id)
            .order_by(col(RetireAudit.id))
        )
    ).scalars()
    return [RetirementOut.model_validate(r.model_dump()) for r in rows]
