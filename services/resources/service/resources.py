"""Drafts, versions and reading: a resource's life up to (not including) storing it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.access import can_read, can_write, require_write
from services.kernel.auth import Principal
from services.kernel.chinese import nfc
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.kernel.feed import emit
from services.kernel.pagination import PageParams, paginate
from services.resources.models import Attachment, Resource, ResourceVersion, Usage, feed_tables
from services.resources.review.markup import plain_text
from services.resources.schemas import (
    AttachmentOut,
    FindingOut,
    ResourceCreate,
    ResourceMetadata,
    ResourceOut,
    ResourcePatch,
    VersionOut,
    VersionSummary,
)
from services.resources.service.access import CLOSED, may_read, may_use
from services.resources.service.vocab import Vocabularies

# Publications whose pages the public can open: their resource version is public through them.
SHOWN = ("published", "archived")


async def live_versions(session: AsyncSession, resource_ids: set[int]) -> set[tuple[int, int]]:
    """(resource id, version) pairs that a published or archived publication shows."""
    if not resource_ids:
        return set()
    rows = await session.execute(
        select(col(Usage.resource_id), col(Usage.resource_version)).where(
            col(Usage.resource_id).in_(resource_ids), col(Usage.status).in_(SHOWN)
        )
    )
    return {(int(r), int(v)) for r, v in rows.all()}


def check_vocabulary(meta: ResourceMetadata, vocab: Vocabularies) -> None:
    if meta.genre not in vocab.genres:
        raise ValidationFailed.field("metadata.genre", f"未知的体裁分类 {meta.genre!r}，取值见 /vocabularies")
    if meta.topic is not None and meta.topic not in vocab.topics:
        raise ValidationFailed.field("metadata.topic", f"未知的主题分类 {meta.topic!r}，取值见 /vocabularies")


def tamper_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tampering findings a stored version still carries (warnings: blocking ones refuse 入库),
    for the feed: oversight opens a security incident on them."""
    keep = ("rule", "severity", "excerpt", "reason")
    return [{k: f.get(k) for k in keep} for f in findings if str(f.get("rule", "")).startswith("tamper.")][
        :20
    ]


def event_payload(resource: Resource, version: int, title: str) -> dict[str, Any]:
    return {
        "resource_id": resource.id,
        "version": version,
        "status": resource.status,
        "title": title,
        "owner_site": resource.owner_site,
        "owner_org": resource.owner_org,
        "scope": resource.scope,
    }


async def create_resource(
    session: AsyncSession, principal: Principal, site: str, data: ResourceCreate, vocab: Vocabularies
) -> Resource:
    owner_site = site
    if data.owner_site and data.owner_site != site:
        if not principal.has_role("platform_admin"):
            raise Forbidden("只有平台管理员可以为其他站点建立资源")
        owner_site = data.owner_site
    if not can_write(principal, owner_site):
        raise Forbidden(f"需要站点 {owner_site} 的编辑或站点管理员角色")
    check_vocabulary(data.metadata, vocab)
    ts = epoch()
    resource = Resource(
        owner_site=owner_site,
        owner_org=data.owner_org or principal.org or data.metadata.issuer_org.code,
        scope=data.scope,
        created_by=principal.sub,
        created_at=ts,
        updated_at=ts,
    )
    session.add(resource)
    await session.flush()
    assert resource.id is not None
    session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=1,
            meta=data.metadata.model_dump(mode="json"),
            body_html=nfc(data.body_html),
            created_by=principal.sub,
            created_at=ts,
        )
    )
    await emit(
        session,
        feed_tables,
        "resource.updated",
        resource.id,
        event_payload(resource, 1, data.metadata.title),
        resource.owner_site,
    )
    return resource


async def get_resource(session: AsyncSession, resource_id: int, *, lock: bool = False) -> Resource:
    stmt = select(Resource).where(col(Resource.id) == resource_id)
    if lock:
        stmt = stmt.with_for_update()
    resource = (await session.execute(stmt)).scalar_one_or_none()
    if resource is None:
        raise NotFound(f"资源 {resource_id} 不存在")
    return resource


async def writable_resource(session: AsyncSession, principal: Principal, resource_id: int) -> Resource:
    """The resource if the caller may edit it; another site's editor sees 404, not 403."""
    resource = await get_resource(session, resource_id, lock=True)
    require_write(principal, resource.owner_site, f"资源 {resource_id} ")
    if resource.status == "taken_down":
        raise Conflict(f"资源 {resource_id} 已被平台下架")
    return resource


async def readable_resource(session: AsyncSession, principal: Principal | None, resource_id: int) -> Resource:
    """The resource if the caller holds a binding on its owning site; 404 for everyone else."""
    resource = await get_resource(session, resource_id)
    if not may_read(principal, resource):
        raise NotFound(f"资源 {resource_id} 不存在")
    return resource


async def get_version(session: AsyncSession, resource_id: int, version: int) -> ResourceVersion:
    row = (
        await session.execute(
            select(ResourceVersion).where(
                col(ResourceVersion.resource_id) == resource_id, col(ResourceVersion.version) == version
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"资源 {resource_id} 没有第 {version} 版")
    return row


async def draft_version(session: AsyncSession, resource: Resource, principal: Principal) -> ResourceVersion:
    """The editable version: the latest draft, or a new one copied from the stored version."""
    if resource.status == "retired":
        raise Conflict("资源已废止，不能再编辑")
    assert resource.id is not None
    latest = await get_version(session, resource.id, resource.latest_version)
    if latest.status == "draft":
        return latest
    ts = epoch()
    new = ResourceVersion(
        resource_id=resource.id,
        version=latest.version + 1,
        meta=dict(latest.meta),
        body_html=latest.body_html,
        created_by=principal.sub,
        created_at=ts,
    )
    session.add(new)
    attachments = (
        await session.execute(
            select(Attachment).where(
                col(Attachment.resource_id) == resource.id, col(Attachment.version) == latest.version
            )
        )
    ).scalars()
    for att in attachments:
        session.add(
            Attachment(
                resource_id=resource.id,
                version=new.version,
                sha256=att.sha256,
                filename=att.filename,
                media_type=att.media_type,
                size=att.size,
                created_by=att.created_by,
                created_at=att.created_at,
            )
        )
    resource.latest_version = new.version
    resource.updated_at = ts
    await session.flush()
    return new


async def patch_resource(
    session: AsyncSession, principal: Principal, resource_id: int, data: ResourcePatch, vocab: Vocabularies
) -> Resource:
    resource = await writable_resource(session, principal, resource_id)
    version = await draft_version(session, resource, principal)
    if data.metadata is not None:
        check_vocabulary(data.metadata, vocab)
        version.meta = data.metadata.model_dump(mode="json")
    if data.body_html is not None:
        version.body_html = nfc(data.body_html)
    if data.scope is not None:
        resource.scope = data.scope
    resource.updated_at = epoch()
    session.add(version)
    await emit(
        session,
        feed_tables,
        "resource.updated",
        resource_id,
        event_payload(resource, version.version, version.meta.get("title", "")),
        resource.owner_site,
    )
    return resource


def stored_text(version: ResourceVersion) -> str:
    """The plain text of a stored version, extracted from its sanitised body exactly as 入库 did;
    a draft has none until it is stored."""
    return nfc(plain_text(version.body_html)) if version.status == "stored" else ""


async def version_out(session: AsyncSession, resource: Resource, version: ResourceVersion) -> VersionOut:
    attachments = (
        await session.execute(
            select(Attachment)
            .where(col(Attachment.resource_id) == resource.id, col(Attachment.version) == version.version)
            .order_by(col(Attachment.id))
        )
    ).scalars()
    return VersionOut(
        resource_id=version.resource_id,
        version=version.version,
        status=version.status,
        metadata={**version.meta, "index_no": resource.index_no if version.status == "stored" else None},
        body_html=version.body_html,
        body_text=stored_text(version),
        index_no=resource.index_no if version.status == "stored" else None,
        findings=[FindingOut(**f) for f in version.findings],
        attachments=[
            AttachmentOut(
                sha256=a.sha256,
                filename=a.filename,
                media_type=a.media_type,
                size=a.size,
                url=f"/api/resources/v1/objects/{a.sha256}",
            )
            for a in attachments
        ],
        owner_site=resource.owner_site,
        owner_org=resource.owner_org,
        scope=resource.scope,
        created_at=version.created_at,
        stored_at=version.stored_at,
    )


async def resource_out(
    session: AsyncSession, resource: Resource, *, full: bool, number: int | None = None
) -> ResourceOut:
    assert resource.id is not None
    number = number or (resource.latest_version if full else resource.stored_version)
    assert number is not None
    version = await get_version(session, resource.id, number)
    return ResourceOut(
        id=resource.id,
        status=resource.status,
        owner_site=resource.owner_site,
        owner_org=resource.owner_org,
        scope=resource.scope,
        index_no=resource.index_no,
        latest_version=resource.latest_version,
        stored_version=resource.stored_version,
        current=await version_out(session, resource, version),
    )


async def read_resource(
    session: AsyncSession,
    principal: Principal | None,
    resource_id: int,
) -> ResourceOut:
    """Staff of the owning site see the latest version; anyone else only the newest version a
    live publication shows, which is public already. The tenant a request
    names plays no part: the client chooses it."""
    resource = await get_resource(session, resource_id)
    if may_read(principal, resource):
        return await resource_out(session, resource, full=True)
    if resource.status not in CLOSED:
        shown = [v for _, v in await live_versions(session, {resource_id})]
        if shown:
            return await resource_out(session, resource, full=False, number=max(shown))
    raise NotFound(f"资源 {resource_id} 不存在")


async def list_versions(
    session: AsyncSession, principal: Principal, resource_id: int
) -> list[VersionSummary]:
    await readable_resource(session, principal, resource_id)
    rows = (
        await session.execute(
            select(ResourceVersion)
            .where(col(ResourceVersion.resource_id) == resource_id)
            .order_by(col(ResourceVersion.version))
        )
    ).scalars()
    return [
        VersionSummary(
            version=v.version,
            status=v.status,
            title=v.meta.get("title", ""),
            created_by=v.created_by,
            created_at=v.created_at,
            stored_at=v.stored_at,
        )
        for v in rows
    ]


async def version_for_use(
    session: AsyncSession, principal: Principal, resource_id: int, number: int, for_site: str | None
) -> VersionOut:
    """One version: the internal contract content uses to place a publication, or an editor's view."""
    resource = await get_resource(session, resource_id)
    if for_site is None:
        if not may_read(principal, resource):
            raise NotFound(f"资源 {resource_id} 不存在")
    elif not (principal.is_internal or may_read(principal, resource)):
        # Placing is content's internal call; the owning site's staff may preview it.
        raise NotFound(f"资源 {resource_id} 不存在")
    elif not may_use(resource, for_site):
        raise NotFound(f"资源 {resource_id} 不存在或站点 {for_site} 无权使用")
    version = await get_version(session, resource_id, number)
    if for_site is not None:
        if resource.status == "taken_down":
            raise NotFound(f"资源 {resource_id} 不存在")
        if resource.status == "retired":
            raise Conflict(f"资源 {resource_id} 已废止")
        if version.status != "stored":
            raise Conflict(f"资源 {resource_id} 第 {number} 版尚未入库")
    return await version_out(session, resource, version)


async def list_resources(
    session: AsyncSession, principal: Principal, site: str, params: PageParams
) -> tuple[list[Resource], int]:
    if not can_read(principal, site):
        raise Forbidden(f"需要站点 {site} 的角色")
    stmt = select(Resource).where(col(Resource.owner_site) == site).order_by(col(Resource.id).desc())
    return await paginate(session, stmt, params)
