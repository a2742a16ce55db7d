"""Issuing tokens: access tokens (what TokenVerifier checks), id_tokens, refresh tokens.

Refresh tokens are opaque and stored hashed; each use rotates it, and presenting one that was
already rotated revokes its whole family (someone holds a stolen copy). A token is consumed by
one conditional UPDATE whose row count says who won, so two concurrent redemptions of one
token can never both succeed (the loser is treated as the reuse it is). A family ends
refresh_family_max_seconds after its sign-in, however often it is rotated.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import FederatedAccount, OAuthClient, Organisation, RefreshToken, User
from services.identity.schemas import TokenOut
from services.identity.service import audit, keys
from services.identity.service.accounts import bindings_of
from services.identity.service.clients import get_client, secret_matches
from services.identity.service.common import Actor, OAuthError, now, opaque_token, sha256_hex
from services.identity.service.runtime import IdentityRuntime
from services.kernel.roles import Role


async def authenticate_client(
    session: AsyncSession, client_id: str | None, secret: str | None, *, need_secret: bool = False
) -> OAuthClient:
    client = await get_client(session, client_id) if client_id else None
    if client is None or client.status != "active":
        raise OAuthError("invalid_client", "客户端认证失败", 401)
    if client.kind == "confidential" or need_secret or secret:
        if not secret_matches(client, secret):
            raise OAuthError("invalid_client", "客户端认证失败", 401)
    return client


def grant_scope(client: OAuthClient, requested: str | None) -> str:
    allowed = client.scopes.split()
    if not requested:
        return " ".join(allowed)
    wanted = requested.split()
    extra = [s for s in wanted if s not in allowed]
    if extra:
        raise OAuthError("invalid_scope", f"客户端无权申请权限范围 {' '.join(extra)}")
    return " ".join(dict.fromkeys(wanted))


def require_grant(client: OAuthClient, grant: str) -> None:
    if grant not in client.grants:
        raise OAuthError("unauthorized_client", f"客户端未被授权使用 {grant} 模式")


async def roles_claim(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    if user.kind == "citizen":
        return [{"role": Role.CITIZEN.value, "site": None}]
    return [{"role": b.role, "site": b.site} for b in await bindings_of(session, user.id or 0)]


async def user_profile(session: AsyncSession, user: User) -> dict[str, Any]:
    org = await session.get(Organisation, user.org_id) if user.org_id else None
    return {
        "sub": str(user.id),
        "kind": "user",
        "name": user.display_name,
        "preferred_username": user.username,
        "org": org.code if org else None,
        "roles": await roles_claim(session, user),
        "user_kind": user.kind,
    }


async def _access_token(
    session: AsyncSession, rt: IdentityRuntime, subject: dict[str, Any], scope: str, client_id: str
) -> tuple[str, int]:
    settings = rt.settings
    issued = int(now())
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.issuer,
        "aud": settings.token_audience,
        **subject,
        "scope": scope,
        "client_id": client_id,
        "token_use": "access",
        "iat": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    return await keys.sign(session, rt.keys, claims), ttl


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


@dataclass(frozen=True)
class Family:
    """One sign-in's chain of refresh tokens: its id and its hard end."""

    id: str
    expires_at: float


def new_family(rt: IdentityRuntime) -> Family:
    return Family(uuid.uuid4().hex, now() + rt.settings.refresh_family_max_seconds)


async def _new_refresh(
    session: AsyncSession, rt: IdentityRuntime, user: User, client_id: str, scope: str, family: Family
) -> str:
    value = opaque_token()
    at = now()
    session.add(
        RefreshToken(
            token_hash=sha256_hex(value),
            family_id=family.id,
            user_id=user.id or 0,
            client_id=client_id,
            scope=scope,
            created_at=at,
            expires_at=min(at + rt.settings.refresh_token_ttl_seconds, family.expires_at),
            family_expires_at=family.expires_at,
        )
    )
    await session.flush()
    return value


async def _federated(session: AsyncSession, user: User) -> bool:
    """A federated account's bindings are re-evaluated at each sign-in at its issuer: a refresh
    token would carry them on past a role the issuer took away, so it gets none."""
    stmt = select(col(FederatedAccount.id)).where(col(FederatedAccount.user_id) == user.id)
    return (await session.execute(stmt)).first() is not None


async def tokens_for_user(
    session: AsyncSession,
    rt: IdentityRuntime,
    user: User,
    client: OAuthClient,
    scope: str,
    *,
    nonce: str | None = None,
    auth_time: float | None = None,
    family: Family | None = None,
) -> TokenOut:
    profile = await user_profile(session, user)
    access, ttl = await _access_token(session, rt, profile, scope, client.client_id)
    out = TokenOut(access_token=access, expires_in=ttl, scope=scope)
    if "refresh_token" in client.grants and not await _federated(session, user):
        out.refresh_token = await _new_refresh(
            session, rt, user, client.client_id, scope, family or new_family(rt)
        )
    if "openid" in scope.split():
        issued = int(now())
        id_claims: dict[str, Any] = {
            "iss": rt.settings.issuer,
            "sub": profile["sub"],
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": issued,
            "exp": issued + rt.settings.id_token_ttl_seconds,
            "auth_time": int(auth_time or issued),
            "at_hash": _at_hash(access),
            "token_use": "id",
        }
        if "profile" in scope.split():
            id_claims.update(name=profile["name"], preferred_username=profile["preferred_username"])
        if nonce:
            id_claims["nonce"] = nonce
        out.id_token = await keys.sign(session, rt.keys, id_claims)
    return out


async def client_token(
    session: AsyncSession, rt: IdentityRuntime, client: OAuthClient, requested: str | None
) -> TokenOut:
    require_grant(client, "client_credentials")
    scope = grant_scope(client, requested)
    subject: dict[str, Any] = {
        "sub": client.client_id,
        "kind": "client",
        "name": client.name,
        "preferred_username": client.client_id,
        "org": None,
        "roles": [],
    }
    if client.site:
        subject["site"] = client.site
    access, ttl = await _access_token(session, rt, subject, scope, client.client_id)
    return TokenOut(access_token=access, expires_in=ttl, scope=scope)


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now())
    )


async def _refresh_row(session: AsyncSession, value: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(col(RefreshToken.token_hash) == sha256_hex(value))
    return (await session.execute(stmt)).scalars().first()


async def _reuse(session: AsyncSession, row: RefreshToken, client: OAuthClient, address: str) -> OAuthError:
    # A rotated token came back: either the client or a thief holds a copy. End them all.
    await revoke_family(session, row.family_id)
    await audit.record(
        session,
        Actor(client.client_id, address),
        "token.reuse_detected",
        str(row.user_id),
        {"family": row.family_id},
    )
    return OAuthError("invalid_grant", "刷新令牌已被使用，该登录会话已全部撤销")


async def _consume(session: AsyncSession, row: RefreshToken, at: float) -> bool:
    """Mark the token rotated if nobody has; True for the one caller that did."""
    result = await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == row.id,
            col(RefreshToken.rotated_at).is_(None),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(rotated_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def refresh(
    session: AsyncSession,
    rt: IdentityRuntime,
    client: OAuthClient,
    value: str,
    requested: str | None,
    address: str,
) -> TokenOut:
    require_grant(client, "refresh_token")
    row = await _refresh_row(session, value)
    at = now()
    if row is None or row.client_id != client.client_id:
        raise OAuthError("invalid_grant", "刷新令牌无效")
    if row.rotated_at is not None and row.revoked_at is None:
        raise await _reuse(session, row, client, address)
    if row.revoked_at is not None or row.expires_at <= at:
        raise OAuthError("invalid_grant", "刷新令牌已失效")
    if row.family_expires_at <= at:
        await revoke_family(session, row.family_id)
        raise OAuthError("invalid_grant", "登录会话已达最长有效期，请重新登录")
    user = await session.get(User, row.user_id)
    if user is None or user.status != "active":
        await revoke_family(session, row.family_id)
        raise OAuthError("invalid_grant", "刷新令牌已失效")
    scope = row.scope
    if requested:
        narrower = requested.split()
        if any(s not in row.scope.split() for s in narrower):
            raise OAuthError("invalid_scope", "刷新时不能扩大权限范围")
        scope = " ".join(narrower)
    if not await _consume(session, row, at):
        # Another redemption of this very token won the race: this one is the reuse.
        raise await _reuse(session, row, client, address)
    family = Family(row.family_id, row.family_expires_at)
    return await tokens_for_user(session, rt, user, client, scope, family=family)


async def revoke(session: AsyncSession, client: OAuthClient, value: str, address: str) -> None:
    """RFC 7009: revoke a refresh token (and its family). Unknown tokens are not an error."""
    row = await _refresh_row(session, value)
    if row is None or row.client_id != client.client_id:
        return  # an access token, or not ours: nothing stored to revoke
    await revoke_family(session, row.family_id)
    await audit.record(
        session,
        Actor(client.client_id, address),
        "token.revoked",
        str(row.user_id),
        {"family": row.family_id},
    )
