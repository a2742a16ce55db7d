"""Placing a peer's shared resource on one of our sites (the city's side): the peer's version is
copied into our library (stored again here: 先入库，后使用) with its provenance, placed as a
draft publication pinning that copy, and the usage is registered at the source. The copy never
follows later versions at the source: the city pinned the version it chose."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.federation.models import Peer
from services.federation.service.link import PeerLink
from services.federation.service.peers import get_peer
from services.federation.service.sealing import Sealer
from services.federation.shared_models import ResourcePlacement
from services.federation.shared_schemas import (
    PeerAttachmentOut,
    PeerResourceOut,
    PeerResourceVersionOut,
    PlacementIn,
    PlacementOut,
)
from services.federation.vocab import PeerStatus, UsageState
from services.kernel.access import require_read, require_write
from services.kernel.auth import Principal
from services.kernel.client import ServiceDirectory
from services.kernel.clock import now
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_HEADER, TENANT_HEADER, edge_key, sign_edge
from services.kernel.errors import Conflict, NotFound, PeerUnavailable, ServiceUnavailable
from services.kernel.outbound import OutboundClient

PEER_RESOURCES = "/api/federation/v1/peer/resources"
LIBRARY = "/api/resources/v1/resources"
CONTENT = "/api/content/v1"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# The unified metadata a library accepts (schema version 1). What the source's library assigned
# at storing (索引号) is its own — ours assigns one of ours — and relations name its ids.
UNIFIED_FIELDS = frozenset(
    {"schema_version", "title", "issuer_org", "written_at", "published_at", "doc_no", "topic", "genre",
     "keywords", "abstract", "validity", "source", "language", "history"}
)  # fmt: skip


async def peer_link(
    session: AsyncSession, sealer: Sealer, outbound: OutboundClient, code: str
) -> tuple[Peer, PeerLink]:
    peer = await get_peer(session, code)
    if peer.status != PeerStatus.ACTIVE or not (peer.remote_client_id and peer.remote_secret_enc):
        raise Conflict(f"互联平台 {code} 未启用或尚未设置本平台在对方的客户端凭据")
    secret = sealer.open(peer.remote_secret_enc)
    return peer, PeerLink(outbound, peer.base_url, peer.remote_client_id, secret)


def require_placer(principal: Principal, site: str) -> None:
    """A writer of the site places (and browses for it) before any peer is dialled."""
    require_write(principal, site, "站点")


def _peer_answer(status: int, body: Any, what: str) -> dict[str, Any]:
    if status == 404:
        raise NotFound(f"互联平台上{what}不存在或未共享")
    if status != 200 or not isinstance(body, dict):
        raise PeerUnavailable(f"互联平台读取{what}回答 HTTP {status}")
    return body


async def browse(link: PeerLink) -> list[PeerResourceOut]:
    status, body = await link.get_json(PEER_RESOURCES, authed=True)
    return [PeerResourceOut.model_validate(i) for i in _peer_answer(status, body, "共享资源")["items"]]


async def peer_version(link: PeerLink, resource_id: int, version: int) -> PeerResourceVersionOut:
    status, body = await link.get_json(f"{PEER_RESOURCES}/{resource_id}/versions/{version}", authed=True)
    return PeerResourceVersionOut.model_validate(
        _peer_answer(status, body, f"资源 {resource_id} 第 {version} 版")
    )


async def peer_files(link: PeerLink, source: PeerResourceVersionOut) -> list[tuple[PeerAttachmentOut, bytes]]:
    """Every file of the source version, read from the peer and checked against the SHA-256 it
    declared, before anything is written here: a file that does not match places nothing."""
    out: list[tuple[PeerAttachmentOut, bytes]] = []
    for a in source.attachments:
        if not _SHA256.fullmatch(a.sha256):  # it becomes part of a path we ask the peer for
            raise PeerUnavailable(f"互联平台给出的附件 {a.filename} 摘要无效")
        path = f"{PEER_RESOURCES}/{source.resource_id}/versions/{source.version}/attachments/{a.sha256}"
        status, data = await link.get_bytes(path, a.size)
        if status != 200:
            raise PeerUnavailable(f"互联平台读取附件 {a.filename} 回答 HTTP {status}")
        if hashlib.sha256(data).hexdigest() != a.sha256.lower():
            raise Conflict(f"互联平台的附件 {a.filename} 与其声明的 SHA-256 不符，未放置")
        out.append((a, data))
    return out


def _tenant(directory: ServiceDirectory, secret: str, site: str, method: str, path: str) -> dict[str, str]:
    headers = {TENANT_HEADER: site, CLIENT_IP_HEADER: ""}
    if not directory.is_local("resources") and secret:
        # resources on its own socket believes a tenant only with the edge signature
        headers[EDGE_HEADER] = sign_edge(edge_key(secret), method, path.encode(), site, "").decode()
    return headers


def _ok(resp: httpx.Response, what: str) -> dict[str, Any]:
    if resp.status_code < 400:
        data: dict[str, Any] = resp.json()
        return data
    detail = ""
    if resp.headers.get("content-type", "").startswith("application/problem+json"):
        detail = str(resp.json().get("detail") or "")
    if resp.status_code == 404:
        raise NotFound(f"{what}：{detail or '不存在'}")
    if resp.status_code in (409, 422):
        raise Conflict(f"{what}未通过：{detail}"[:1000])
    raise ServiceUnavailable(f"{what}失败（HTTP {resp.status_code}）")


def _copy_metadata(peer: Peer, source: PeerResourceVersionOut) -> dict[str, Any]:
    """The source's unified metadata with its provenance in `source`; relations name the
    source's library, whose ids mean nothing here, so they stay in the source's record."""
    meta = {k: v for k, v in source.metadata.items() if k in UNIFIED_FIELDS}
    at = f"{peer.name}（{peer.code}）资源 {source.resource_id} 第 {source.version} 版"
    meta["source"] = (f"{at}，索引号 {source.index_no}" if source.index_no else at)[:200]
    return meta


async def place(
    session: AsyncSession,
    directory: ServiceDirectory,
    internal_secret: str,
    peer: Peer,
    link: PeerLink,
    resource_id: int,
    body: PlacementIn,
    principal: Principal,
) -> ResourcePlacement:
    require_placer(principal, body.site)
    source = await peer_version(link, resource_id, body.version)
    files = await peer_files(link, source)
    resources, content = directory.client("resources"), directory.client("content")
    path = f"{LIBRARY}"
    made = _ok(
        await resources.post(
            path,
            json={
                "metadata": _copy_metadata(peer, source),
                "body_html": source.body_html,
                "scope": "own_site",
            },
            headers=_tenant(directory, internal_secret, body.site, "POST", path),
        ),
        "复制到本平台资源库",
    )
    local_id = int(made["id"])
    body_html = source.body_html
    for att, data in files:
        path = f"{LIBRARY}/{local_id}/attachments"
        up = _ok(
            await resources.post(
                path,
                files={"file": (att.filename, data, att.media_type)},
                headers=_tenant(directory, internal_secret, body.site, "POST", path),
            ),
            f"附件 {att.filename} 入本平台资源库",
        )
        # A link to the file at the source becomes a link to our copy of it.
        body_html = body_html.replace(att.url, str(up["url"]))
    if body_html != source.body_html:
        path = f"{LIBRARY}/{local_id}"
        _ok(
            await resources.patch(
                path,
                json={"body_html": body_html},
                headers=_tenant(directory, internal_secret, body.site, "PATCH", path),
            ),
            "副本正文改指本平台附件",
        )
    path = f"{LIBRARY}/{local_id}/store"
    stored = _ok(
        await resources.post(path, headers=_tenant(directory, internal_secret, body.site, "POST", path)),
        "副本入库",
    )
    placed = _ok(
        await content.post(
            f"{CONTENT}/sites/{quote(body.site, safe='')}/publications",
            json={
                "column_id": body.column_id,
                "resource_id": local_id,
                "resource_version": int(stored["version"]),
            },
        ),
        "放置到栏目",
    )
    row = ResourcePlacement(
        peer=peer.code,
        remote_resource_id=resource_id,
        remote_version=body.version,
        remote_index_no=source.index_no,
        site=body.site,
        column_id=body.column_id,
        resource_id=local_id,
        resource_version=int(stored["version"]),
        publication_id=int(placed["id"]),
        placed_by=principal.sub,
        placed_at=now(),
    )
    # Told before the row is written, so no write lock is held while the peer answers.
    await register(link, row, str(source.metadata.get("title") or ""))
    session.add(row)
    await session.flush()
    return row


async def register(link: PeerLink, row: ResourcePlacement, title: str = "") -> None:
    """Tell the source the row's state; a peer that is down leaves `registered` false and the
    error on the row for `sync_usages` to retry (the placement stands: the copy is our own)."""
    state = UsageState(row.status)
    usage = {
        "site": row.site,
        "item": row.publication_id,
        "version": row.remote_version,
        "title": title[:300],
    }
    try:
        status, answer = await link.post_json(
            f"{PEER_RESOURCES}/{row.remote_resource_id}/usages", {**usage, "status": state.value}
        )
    except PeerUnavailable as exc:
        row.registered, row.last_error = False, str(exc.detail or exc)[:500]
        return
    if status in (200, 201):
        row.registered, row.last_error = True, None
    else:
        detail = answer.get("detail") if isinstance(answer, dict) else None
        row.registered, row.last_error = False, f"HTTP {status} {detail or ''}".strip()[:500]


def placement_out(r: ResourcePlacement) -> PlacementOut:
    return PlacementOut(
        id=r.id or 0, peer=r.peer, remote_resource_id=r.remote_resource_id, remote_version=r.remote_version,
        remote_index_no=r.remote_index_no, site=r.site, column_id=r.column_id, resource_id=r.resource_id,
        resource_version=r.resource_version, publication_id=r.publication_id,
        status=UsageState(r.status), registered=r.registered,
        last_error=r.last_error, placed_by=r.placed_by, placed_at=r.placed_at,
    )  # fmt: skip


async def placements(session: AsyncSession, principal: Principal, site: str) -> list[PlacementOut]:
    require_read(principal, site, "站点")
    stmt = (
        select(ResourcePlacement)
        .where(col(ResourcePlacement.site) == site)
        .order_by(col(ResourcePlacement.id))
    )
    return [placement_out(r) for r in (await session.execute(stmt)).scalars()]


async def withdrawn(session: AsyncSession, publication_id: int) -> None:
    """A local publication was withdrawn (content's feed, via the relay): if it placed a peer's
    resource, the source is to be told; `sync_usages` sends it, off the relay's path."""
    stmt = select(ResourcePlacement).where(col(ResourcePlacement.publication_id) == publication_id)
    for row in (await session.execute(stmt)).scalars():
        if row.status != UsageState.WITHDRAWN:
            row.status, row.registered = UsageState.WITHDRAWN, False


async def sync_usages(
    session: AsyncSession, sealer: Sealer, outbound: OutboundClient, limit: int = 50
) -> int:
    """Send the source every placement state it has not acknowledged; how many were tried."""
    stmt = (
        select(ResourcePlacement)
        .where(col(ResourcePlacement.registered).is_(False))
        .order_by(col(ResourcePlacement.id))
        .limit(limit)
    )
    rows = list((await session.execute(stmt)).scalars())
    links: dict[str, PeerLink | None] = {}
    for code in {r.peer for r in rows}:  # every read before the first change: no autoflush
        try:  # while a peer answers, so no write lock is held then
            links[code] = (await peer_link(session, sealer, outbound, code))[1]
        except (Conflict, NotFound):  # disabled or gone: its rows wait
            links[code] = None
    for row in rows:
        found = links[row.peer]
        if found is not None:
            await register(found, row)
    return len(rows)
