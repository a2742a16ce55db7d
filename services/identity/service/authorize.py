"""The authorization-code flow with PKCE (S256 only) and the single sign-on session.

One SSO session at identity (cookie `jiyue_sso`, stored hashed) signs a person in on every
hosted site: the next site's /authorize finds the session and answers with a code at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import AuthorizationCode, OAuthClient, SsoSession, User
from services.identity.schemas import TokenOut
from services.identity.service import audit
from services.identity.service.clients import get_client
from services.identity.service.common import Actor, OAuthError, now, opaque_token, sha256_hex
from services.identity.service.runtime import IdentityRuntime
from services.identity.service.tokens import (
    grant_scope,
    new_family,
    require_grant,
    revoke_family,
    tokens_for_user,
)

SSO_COOKIE = "jiyue_sso"


@dataclass
class AuthRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str
    code_challenge_method: str
    response_type: str

    def as_form(self) -> dict[str, str]:
        return asdict(self)


class RedirectError(Exception):
    """An error the client must hear about at its (already verified) redirect URI."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str) -> None:
        super().__init__(description)
        self.location = with_query(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )


def with_query(uri: str, params: dict[str, str]) -> str:
    clean = {k: v for k, v in params.items() if v}
    return uri + ("&" if "?" in uri else "?") + urlencode(clean)


async def validate_request(session: AsyncSession, params: dict[str, str]) -> tuple[OAuthClient, AuthRequest]:
    """Check client and redirect URI first (errors shown on our page, never redirected to an
    unverified address), then the rest (errors sent back to the client)."""
    req = AuthRequest(
        client_id=params.get("client_id", ""),
        redirect_uri=params.get("redirect_uri", ""),
        scope=params.get("scope", ""),
        state=params.get("state", ""),
        nonce=params.get("nonce", ""),
        code_challenge=params.get("code_challenge", ""),
        code_challenge_method=params.get("code_challenge_method", ""),
        response_type=params.get("response_type", ""),
    )
    client = await get_client(session, req.client_id) if req.client_id else None
    if client is None or client.status != "active" or "authorization_code" not in client.grants:
        raise OAuthError("invalid_client", "客户端不存在或未被授权使用授权码模式")
    if req.redirect_uri not in client.redirect_uris:
        raise OAuthError("invalid_request", "回调地址与登记的不一致")

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(req.redirect_uri, error, description, req.state)

    if req.response_type != "code":
        raise fail("unsupported_response_type", "只支持 response_type=code")
    if req.code_challenge_method != "S256" or not 43 <= len(req.code_challenge) <= 128:
        raise fail("invalid_request", "必须使用 PKCE（code_challenge_method=S256）")
    try:
        req.scope = grant_scope(client, req.scope or None)
    except OAuthError as exc:
        raise fail(exc.error, exc.description) from exc
    return client, req


async def sso_user(session: AsyncSession, cookie: str | None) -> tuple[SsoSession, User] | None:
    if not cookie:
        return None
    stmt = select(SsoSession).where(col(SsoSession.session_hash) == sha256_hex(cookie))
    row = (await session.execute(stmt)).scalars().first()
    if row is None or row.revoked_at is not None or row.expires_at <= now():
        return None
    user = await session.get(User, row.user_id)
    if user is None or user.status != "active":
        return None
    return row, user


async def start_sso(session: AsyncSession, rt: IdentityRuntime, user: User) -> tuple[str, SsoSession]:
    value = opaque_token()
    at = now()
    row = SsoSession(
        session_hash=sha256_hex(value),
        user_id=user.id or 0,
        auth_time=at,
        expires_at=at + rt.settings.sso_session_ttl_seconds,
    )
    session.add(row)
    await session.flush()
    return value, row


async def end_sso(session: AsyncSession, cookie: str | None) -> User | None:
    """Sign out everywhere at once: the next hosted site's /authorize shows the form again."""
    found = await sso_user(session, cookie)
    if found is None:
        return None
    found[0].revoked_at = now()
    return found[1]


async def issue_code(
    session: AsyncSession, rt: IdentityRuntime, req: AuthRequest, user: User, auth_time: float
) -> str:
    code = opaque_token()
    session.add(
        AuthorizationCode(
            code_hash=sha256_hex(code),
            client_id=req.client_id,
            user_id=user.id or 0,
            redirect_uri=req.redirect_uri,
            scope=req.scope,
            nonce=req.nonce or None,
            code_challenge=req.code_challenge,
            auth_time=auth_time,
            expires_at=now() + rt.settings.authorization_code_ttl_seconds,
        )
    )
    await session.flush()
    return with_query(req.redirect_uri, {"code": code, "state": req.state})


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


async def exchange_code(
    session: AsyncSession,
    rt: IdentityRuntime,
    client: OAuthClient,
    code: str,
    redirect_uri: str,
    verifier: str,
    address: str,
) -> TokenOut:
    require_grant(client, "authorization_code")
    stmt = select(AuthorizationCode).where(col(AuthorizationCode.code_hash) == sha256_hex(code))
    row = (await session.execute(stmt)).scalars().first()
    at = now()
    if row is None or row.client_id != client.client_id:
        raise OAuthError("invalid_grant", "授权码无效")
    if row.used_at is not None:
        raise await _code_reuse(session, row, client, address)
    if row.expires_at <= at:
        raise OAuthError("invalid_grant", "授权码已使用或已过期")
    family = new_family(rt)
    # One use, even when the checks below fail; the row count says which redemption won.
    consumed = await session.execute(
        update(AuthorizationCode)
        .where(col(AuthorizationCode.id) == row.id, col(AuthorizationCode.used_at).is_(None))
        .values(used_at=at, family_id=family.id)
        .execution_options(synchronize_session=False)
    )
    if int(consumed.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise await _code_reuse(session, row, client, address)
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "回调地址与授权请求不一致")
    if not 43 <= len(verifier) <= 128 or not pkce_matches(verifier, row.code_challenge):
        raise OAuthError("invalid_grant", "PKCE 校验失败（code_verifier 不匹配）")
    user = await session.get(User, row.user_id)
    if user is None or user.status != "active":
        raise OAuthError("invalid_grant", "授权码无效")
    return await tokens_for_user(
        session, rt, user, client, row.scope, nonce=row.nonce, auth_time=row.auth_time, family=family
    )


async def _code_reuse(
    session: AsyncSession, row: AuthorizationCode, client: OAuthClient, address: str
) -> OAuthError:
    """A spent code came back: revoke what its first exchange issued (RFC 6749 4.1.2)."""
    stmt = select(col(AuthorizationCode.family_id)).where(col(AuthorizationCode.id) == row.id)
    family = (await session.execute(stmt)).scalar_one_or_none()
    if family:
        await revoke_family(session, family)
    await audit.record(
        session,
        Actor(client.client_id, address),
        "code.reuse_detected",
        str(row.user_id),
        {"family": family},
    )
    return OAuthError("invalid_grant", "授权码已使用或已过期")
