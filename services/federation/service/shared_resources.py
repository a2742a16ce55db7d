"""Resources we share with peer platforms (互联共享, the source's side): a site's editor offers a
stored resource of the library; a peer holding `peer:resources` reads the offered ones — the
unified metadata, the stored versions, one version's body and files — and registers each of its
publications that pins a version, so the usage register (统一监管) spans both platforms.

The library stays the resources service's: federation keeps only which resources are offered
and the peers' usages, and reads the rest from resources when a peer asks. Anything not offered
(or offered and revoked, or retired / taken down since) is not found to a peer."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.federation.shared_models import PeerResourceUsage, SharedResource
from services.federation.shared_schemas import (
    PeerAttachmentOut,
    PeerResourceOut,
    PeerResourceVersionOut,
    PeerUsageOut,
    SharedResourceOut,
    ShareIn,
    UsageIn,
)
from services.federation.vocab import UsageState
from services.kernel.access import require_read, require_write
from services.kernel.auth import Principal
from services.kernel.clock import now
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable

LIBRARY = "/api/resources/v1/resources"
CLOSED = ("retired", "taken_down")


async def _library(resources: httpx.AsyncClient, path: str) -> Any:
    resp = await resources.get(path)
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise ServiceUnavailable(f"资源库未能回答（HTTP {resp.status_code}）")
    return resp.json()


async def _resource(resources: httpx.AsyncClient, resource_id: int) -> dict[str, Any]:
    found = await _library(resources, f"{LIBRARY}/{resource_id}")
    if not isinstance(found, dict):
        raise NotFound(f"资源 {resource_id} 不存在")
    return found


async def offer(
    session: AsyncSession, resources: httpx.AsyncClient, principal: Principal, body: ShareIn
) -> SharedResource:
    res = await _resource(resources, body.resource_id)
    require_write(principal, str(res["owner_site"]), "资源")
    if res["status"] in CLOSED or res.get("stored_version") is None:
        raise Conflict(f"资源 {body.resource_id} 未入库或已废止，不能共享")
    if res["scope"] == "own_site":
        raise Conflict("共享范围为“本站”的资源不能提供给互联平台；请先改为全平台或公开")
    row = await _offered(session, body.resource_id, include_revoked=True)
    if row is None:
        row = SharedResource(
            resource_id=body.resource_id, owner_site=str(res["owner_site"]), offered_by=principal.sub
        )
        session.add(row)
    row.offered_by = principal.sub
    row.offered_at = now()
    row.revoked_at = None
    await session.flush()
    return row


async def revoke(session: AsyncSession, principal: Principal, resource_id: int) -> SharedResource:
    """No longer offered: peers stop seeing it; their registered usages stay on record."""
    row = await _offered(session, resource_id, include_revoked=True)
    if row is None:
        raise NotFound(f"资源 {resource_id} 未共享")
    require_write(principal, row.owner_site, "资源")
    if row.revoked_at is None:
        row.revoked_at = now()
    return row


async def _offered(
    session: AsyncSession, resource_id: int, *, include_revoked: bool
) -> SharedResource | None:
    stmt = select(SharedResource).where(col(SharedResource.resource_id) == resource_id)
    row = (await session.execute(stmt)).scalars().first()
    if row is None or (row.revoked_at is not None and not include_revoked):
        return None
    return row


async def shared_out(session: AsyncSession, rows: list[SharedResource]) -> list[SharedResourceOut]:
    ids = [r.resource_id for r in rows]
    counts: dict[int, int] = {}
    if ids:
        stmt = (
            select(col(PeerResourceUsage.resource_id), func.count())
            .where(
                col(PeerResourceUsage.resource_id).in_(ids),
                col(PeerResourceUsage.status) == UsageState.PLACED,
            )
            .group_by(col(PeerResourceUsage.resource_id))
        )
        counts = {int(rid): int(n) for rid, n in (await session.execute(stmt)).all()}
    return [
        SharedResourceOut(
            resource_id=r.resource_id,
            owner_site=r.owner_site,
            offered_by=r.offered_by,
            offered_at=r.offered_at,
            revoked_at=r.revoked_at,
            usages=counts.get(r.resource_id, 0),
        )
        for r in rows
    ]


async def offered_list(session: AsyncSession, *, include_revoked: bool) -> list[SharedResource]:
    stmt = select(SharedResource).order_by(col(SharedResource.resource_id))
    if not include_revoked:
        stmt = stmt.where(col(SharedResource.revoked_at).is_(None))
    return list((await session.execute(stmt)).scalars())


# --- what a peer reads ---------------------------------------------------------------------


async def _stored_versions(resources: httpx.AsyncClient, resource_id: int) -> list[int]:
    listed = await _library(resources, f"{LIBRARY}/{resource_id}/versions") or []
    return sorted(int(v["version"]) for v in listed if v.get("status") == "stored")


async def for_peer(session: AsyncSession, resources: httpx.AsyncClient, resource_id: int) -> PeerResourceOut:
    if await _offered(session, resource_id, include_revoked=False) is None:
        raise NotFound(f"资源 {resource_id} 不存在")
    res = await _resource(resources, resource_id)
    stored = res.get("stored_version")
    if res["status"] in CLOSED or stored is None:
        raise NotFound(f"资源 {resource_id} 不存在")
    version = await _library(resources, f"{LIBRARY}/{resource_id}/versions/{stored}")
    if not isinstance(version, dict):
        raise NotFound(f"资源 {resource_id} 不存在")
    return PeerResourceOut(
        resource_id=resource_id,
        owner_site=str(res["owner_site"]),
        index_no=res.get("index_no"),
        stored_version=int(stored),
        versions=await _stored_versions(resources, resource_id),
        metadata=dict(version.get("metadata") or {}),
    )


async def list_for_peer(session: AsyncSession, resources: httpx.AsyncClient) -> list[PeerResourceOut]:
    out: list[PeerResourceOut] = []
    for row in await offered_list(session, include_revoked=False):
        try:
            out.append(await for_peer(session, resources, row.resource_id))
        except NotFound:  # retired or taken down since it was offered
            continue
    return out


async def version_for_peer(
    session: AsyncSession, resources: httpx.AsyncClient, resource_id: int, number: int, public_url: str
) -> PeerResourceVersionOut:
    """One stored version of an offered resource; a draft version is not found."""
    await for_peer(session, resources, resource_id)
    v = await _library(resources, f"{LIBRARY}/{resource_id}/versions/{number}")
    if not isinstance(v, dict) or v.get("status") != "stored":
        raise NotFound(f"资源 {resource_id} 第 {number} 版不存在或未入库")
    base = public_url.rstrip("/")
    files = [
        PeerAttachmentOut(
            sha256=a["sha256"],
            filename=a["filename"],
            media_type=a["media_type"],
            size=int(a["size"]),
            url=a["url"] if str(a["url"]).startswith("http") else base + str(a["url"]),
        )
        for a in v.get("attachments") or []
    ]
    return PeerResourceVersionOut(
        resource_id=resource_id, version=number, index_no=v.get("index_no"),
        metadata=dict(v.get("metadata") or {}), body_html=str(v.get("body_html") or ""),
        attachments=files, stored_at=v.get("stored_at"),
    )  # fmt: skip


async def attachment_for_peer(
    session: AsyncSession, resources: httpx.AsyncClient, resource_id: int, number: int, sha256: str
) -> tuple[bytes, str]:
    """One file of a stored version of an offered resource, for a peer to store it again: the
    library serves a file publicly only while a live publication shows it, and a peer holds no
    site binding, so the bytes are read here on its behalf (the bytes and their media type)."""
    version = await version_for_peer(session, resources, resource_id, number, "")
    found = next((a for a in version.attachments if a.sha256 == sha256.lower()), None)
    if found is None:
        raise NotFound(f"资源 {resource_id} 第 {number} 版没有该附件")
    resp = await resources.get(f"/api/resources/v1/objects/{found.sha256}")
    if resp.status_code == 404:
        raise NotFound(f"资源 {resource_id} 第 {number} 版没有该附件")
    if resp.status_code != 200:
        raise ServiceUnavailable(f"资源库未能回答（HTTP {resp.status_code}）")
    return resp.content, found.media_type


async def register_usage(
    session: AsyncSession, resources: httpx.AsyncClient, peer: str, resource_id: int, body: UsageIn
) -> PeerResourceUsage:
    """Idempotent per (peer, site, item): a replay or a later state updates the one row. A
    withdrawal is accepted even after the resource stopped being offered (the record must end)."""
    stmt = select(PeerResourceUsage).where(
        col(PeerResourceUsage.peer) == peer,
        col(PeerResourceUsage.site) == body.site,
        col(PeerResourceUsage.item) == body.item,
    )
    row = (await session.execute(stmt)).scalars().first()
    if row is not None and row.resource_id != resource_id:
        raise Conflict(f"发布 {body.item} 已登记为使用资源 {row.resource_id}")
    if body.status == UsageState.PLACED:
        shared = await for_peer(session, resources, resource_id)
        if body.version not in shared.versions:
            raise NotFound(f"资源 {resource_id} 第 {body.version} 版不存在或未入库")
    elif row is None:
        raise NotFound(f"发布 {body.item} 未登记使用资源 {resource_id}")
    at = now()
    if row is None:
        row = PeerResourceUsage(
            peer=peer,
            resource_id=resource_id,
            version=body.version,
            site=body.site,
            item=body.item,
            status=body.status,
            registered_at=at,
        )
        session.add(row)
    row.version = body.version
    row.title = body.title or row.title  # a retried state may come without the title
    row.status = body.status
    row.updated_at = at
    await session.flush()
    return row


def usage_out(u: PeerResourceUsage) -> PeerUsageOut:
    return PeerUsageOut(
        peer=u.peer, resource_id=u.resource_id, version=u.version, site=u.site, item=u.item,
        title=u.title, status=UsageState(u.status), registered_at=u.registered_at, updated_at=u.updated_at,
    )  # fmt: skip


async def usages(session: AsyncSession, principal: Principal, resource_id: int) -> list[PeerUsageOut]:
    """The peers' usages of one of our resources, to whoever may read the owning site's material."""
    row = await _offered(session, resource_id, include_revoked=True)
    if row is None:
        raise NotFound(f"资源 {resource_id} 未共享")
    require_read(principal, row.owner_site, "资源")
    stmt = (
        select(PeerResourceUsage)
        .where(col(PeerResourceUsage.resource_id) == resource_id)
        .order_by(col(PeerResourceUsage.id))
    )
    return [usage_out(u) for u in (await session.execute(stmt)).scalars()]
