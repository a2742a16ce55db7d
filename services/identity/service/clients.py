"""OAuth clients: hosted sites, department back ends, the platform's own clients.

Client secrets are 256-bit random values generated here, so a plain SHA-256 is as strong as a
slow hash for them and keeps client-credential issuance fast; they are compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import OAuthClient
from services.identity.schemas import ClientIn, ClientOut, ClientPatch
from services.identity.service import audit
from services.identity.service.common import Actor, now, sha256_hex
from services.kernel.client import DASHBOARD_CLIENT_ID
from services.kernel.errors import Conflict, NotFound, ValidationFailed

# Clients identity keeps itself (bootstrap): the API may neither change nor delete them.
_OWN_CLIENTS = frozenset({"jiyue-internal", "jiyue-console", DASHBOARD_CLIENT_ID})


def hash_secret(secret: str) -> str:
    return sha256_hex(secret)


def secret_matches(client: OAuthClient, secret: str | None) -> bool:
    if not client.secret_hash or not secret:
        return False
    return hmac.compare_digest(client.secret_hash, hash_secret(secret))


def client_out(client: OAuthClient, secret: str | None = None) -> ClientOut:
    return ClientOut(
        client_id=client.client_id,
        name=client.name,
        kind=client.kind,
        redirect_uris=list(client.redirect_uris),
        grants=list(client.grants),
        scopes=client.scopes,
        site=client.site,
        first_party=client.first_party,
        status=client.status,
        client_secret=secret,
    )


def _check_redirects(uris: list[str]) -> None:
    for i, uri in enumerate(uris):
        parts = urlsplit(uri)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not loopback):
            raise ValidationFailed.field(f"redirect_uris.{i}", "回调地址须为 https（本机调试可用 http）")
        if parts.fragment:
            raise ValidationFailed.field(f"redirect_uris.{i}", "回调地址不能包含 #片段")


def _check_scopes(scopes: str) -> None:
    # `internal` makes Principal.is_internal true (may do everything): the platform's own
    # machine client holds it, and no registered client may ever be given it.
    if "internal" in scopes.split():
        raise ValidationFailed.field("scopes", "internal 权限范围只属于平台内部客户端，不能授予其他客户端")


def _check_grants(kind: str, grants: list[str], first_party: bool, uris: list[str]) -> None:
    if "client_credentials" in grants and kind != "confidential":
        raise ValidationFailed.field("grants", "client_credentials 只适用于机密客户端")
    if "password" in grants and not first_party:
        raise ValidationFailed.field("grants", "密码模式只允许平台自有客户端使用")
    if "authorization_code" in grants and not uris:
        raise ValidationFailed.field("redirect_uris", "授权码模式至少需要一个回调地址")


async def get_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    stmt = select(OAuthClient).where(col(OAuthClient.client_id) == client_id)
    return (await session.execute(stmt)).scalars().first()


async def require_client(session: AsyncSession, client_id: str) -> OAuthClient:
    client = await get_client(session, client_id)
    if client is None:
        raise NotFound(f"客户端 {client_id} 不存在")
    return client


async def create_client(
    session: AsyncSession, data: ClientIn, actor: Actor
) -> tuple[OAuthClient, str | None]:
    _check_redirects(data.redirect_uris)
    _check_scopes(data.scopes)
    _check_grants(data.kind, list(data.grants), data.first_party, data.redirect_uris)
    if await get_client(session, data.client_id) is not None:
        raise Conflict(f"客户端 {data.client_id} 已存在")
    secret = secrets.token_urlsafe(32) if data.kind == "confidential" else None
    at = now()
    client = OAuthClient(
        client_id=data.client_id,
        name=data.name,
        kind=data.kind,
        secret_hash=hash_secret(secret) if secret else None,
        redirect_uris=list(data.redirect_uris),
        grants=list(data.grants),
        scopes=" ".join(data.scopes.split()),
        site=data.site,
        first_party=data.first_party,
        created_at=at,
        updated_at=at,
    )
    session.add(client)
    await session.flush()
    detail = data.model_dump(exclude={"client_id"})
    await audit.record(session, actor, "client.created", data.client_id, detail)
    return client, secret


async def update_client(
    session: AsyncSession, client_id: str, data: ClientPatch, actor: Actor
) -> tuple[OAuthClient, str | None]:
    client = await require_client(session, client_id)
    if client.client_id in _OWN_CLIENTS:
        raise Conflict("平台自有客户端由身份服务自行维护，不能修改")
    changes = data.model_dump(exclude_none=True, exclude={"rotate_secret"})
    if data.redirect_uris is not None:
        _check_redirects(data.redirect_uris)
    if data.scopes is not None:
        _check_scopes(data.scopes)
    grants: list[str] = list(data.grants) if data.grants is not None else list(client.grants)
    _check_grants(client.kind, grants, client.first_party, data.redirect_uris or client.redirect_uris)
    for key, value in changes.items():
        setattr(client, key, list(value) if isinstance(value, list) else value)
    secret = None
    if data.rotate_secret:
        if client.kind != "confidential":
            raise ValidationFailed.field("rotate_secret", "公开客户端没有密钥")
        secret = secrets.token_urlsafe(32)
        client.secret_hash = hash_secret(secret)
        changes["secret"] = "rotated"
    client.updated_at = now()
    await audit.record(session, actor, "client.updated", client_id, changes)
    return client, secret


async def delete_client(session: AsyncSession, client_id: str, actor: Actor) -> None:
    client = await require_client(session, client_id)
    if client.client_id in _OWN_CLIENTS:
        raise Conflict("平台自有客户端不能删除")
    await session.delete(client)
    await audit.record(session, actor, "client.deleted", client_id, {})


async def list_clients(session: AsyncSession, offset: int, limit: int) -> tuple[list[OAuthClient], int]:
    total = (await session.execute(select(func.count()).select_from(OAuthClient))).scalar_one()
    stmt = select(OAuthClient).order_by(col(OAuthClient.id)).offset(offset).limit(limit)
    return list((await session.execute(stmt)).scalars().all()), int(total)
