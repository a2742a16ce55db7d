"""Registering peer platforms: where they are, our credentials there (sealed), the machine
client identity issues here for them, and what each side reads of the other."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.federation.models import Peer
from services.federation.schemas import PeerCreate, PeerOut, PeerPatch
from services.federation.service.sealing import Sealer
from services.federation.vocab import FollowKind, PeerScope, PeerStatus
from services.kernel.clock import now
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable

CLIENTS = "/api/identity/v1/clients"


def local_client_id(code: str) -> str:
    return f"peer-{code}"


async def get_peer(session: AsyncSession, code: str) -> Peer:
    peer = (await session.execute(select(Peer).where(col(Peer.code) == code))).scalars().first()
    if peer is None:
        raise NotFound(f"互联平台 {code} 不存在")
    return peer


async def peer_of_client(session: AsyncSession, client_id: str | None) -> Peer | None:
    if not client_id:
        return None
    stmt = select(Peer).where(col(Peer.local_client_id) == client_id)
    return (await session.execute(stmt)).scalars().first()


async def list_peers(session: AsyncSession) -> list[Peer]:
    return list((await session.execute(select(Peer).order_by(col(Peer.id)))).scalars())


async def active_peers(session: AsyncSession) -> list[Peer]:
    stmt = select(Peer).where(col(Peer.status) == PeerStatus.ACTIVE).order_by(col(Peer.id))
    return list((await session.execute(stmt)).scalars())


async def _identity(
    identity: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    resp = await identity.request(method, path, json=body)
    if resp.status_code == 409:
        raise Conflict(f"身份服务中已有客户端：{resp.json().get('detail', '')}")
    if resp.status_code not in (200, 201):
        raise ServiceUnavailable(f"身份服务未能签发互联客户端（HTTP {resp.status_code}）")
    data: dict[str, Any] = resp.json()
    return data


async def create_peer(
    session: AsyncSession, identity: httpx.AsyncClient, sealer: Sealer, body: PeerCreate, actor: str
) -> tuple[Peer, str]:
    """The peer's row and the secret of the client issued for it (answered once, never stored)."""
    if (await session.execute(select(col(Peer.id)).where(col(Peer.code) == body.code))).first():
        raise Conflict(f"互联平台 {body.code} 已登记")
    client_id = local_client_id(body.code)
    scopes = sorted({s.value for s in body.scopes})
    issued = await _identity(
        identity,
        "POST",
        CLIENTS,
        {
            "client_id": client_id,
            "name": f"互联平台：{body.name}",
            "kind": "confidential",
            "grants": ["client_credentials"],
            "redirect_uris": [],
            # A client needs at least one scope string; a peer granted nothing reads nothing.
            "scopes": " ".join(scopes) or "peer:none",
        },
    )
    at = now()
    peer = Peer(
        code=body.code,
        name=body.name,
        base_url=body.base_url,
        issuer=body.issuer,
        remote_client_id=body.remote_client_id,
        remote_secret_enc=sealer.seal(body.remote_client_secret) if body.remote_client_secret else None,
        local_client_id=client_id,
        scopes=scopes,
        follow=sorted({f.value for f in body.follow}),
        status=PeerStatus.ACTIVE,
        created_by=actor,
        created_at=at,
        updated_at=at,
    )
    session.add(peer)
    await session.flush()
    secret = issued.get("client_secret")
    if not secret:
        raise ServiceUnavailable("身份服务未返回互联客户端的密钥")
    return peer, str(secret)


async def update_peer(
    session: AsyncSession, identity: httpx.AsyncClient, sealer: Sealer, code: str, body: PeerPatch
) -> Peer:
    peer = await get_peer(session, code)
    if body.name is not None:
        peer.name = body.name
    if body.remote_client_id is not None:
        peer.remote_client_id = body.remote_client_id
    if body.remote_client_secret is not None:
        peer.remote_secret_enc = sealer.seal(body.remote_client_secret)
    if body.follow is not None:
        peer.follow = sorted({f.value for f in body.follow})
    if body.status is not None and body.status != peer.status:
        # Disabling a peer also disables its client here, so its tokens stop being issued.
        await _identity(identity, "PATCH", f"{CLIENTS}/{peer.local_client_id}", {"status": body.status.value})
        peer.status = body.status
    peer.updated_at = now()
    return peer


def peer_out(peer: Peer) -> PeerOut:
    return PeerOut(
        code=peer.code,
        name=peer.name,
        base_url=peer.base_url,
        issuer=peer.issuer,
        remote_client_id=peer.remote_client_id,
        remote_secret_set=bool(peer.remote_secret_enc),
        local_client_id=peer.local_client_id,
        scopes=[PeerScope(s) for s in peer.scopes],
        follow=[FollowKind(f) for f in peer.follow],
        status=PeerStatus(peer.status),
        created_at=peer.created_at,
        updated_at=peer.updated_at,
    )
