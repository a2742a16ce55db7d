"""Signing in here through a trusted issuer: send the person there, take them back.

Start: our own client's authorization request is kept with a fresh state, nonce and PKCE
verifier (and the hash of a cookie of the browser that started it); the person goes to the
issuer's sign-in page. Back at the callback: the state is spent once, in the same browser; the
code is redeemed and the ID token verified (federation_client); the person is found by
(issuer, sub) — never by e-mail or name — or given a local account; their role bindings become
exactly what the issuer's claims map to, re-evaluated at every sign-in; then our own
authorization request resumes and our client gets our code, for our tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import (
    FederatedAccount,
    FederatedLogin,
    FederatedSignIn,
    RoleBindingRow,
    TrustedIssuer,
    User,
)
from services.identity.schemas import ClaimRule, LocalBinding
from services.identity.service import audit
from services.identity.service.accounts import bindings_of
from services.identity.service.authorize import AuthRequest
from services.identity.service.common import Actor, now, opaque_token, sha256_hex
from services.identity.service.federation import (
    callback_uri,
    evaluate,
    issuer_client,
    source_bindings,
    unused_claims,
)
from services.identity.service.federation_client import FederationFailure, Redeemed
from services.identity.service.runtime import IdentityRuntime
from services.kernel.roles import Role

BROWSER_COOKIE = "jiyue_federation"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def start(
    session: AsyncSession, rt: IdentityRuntime, issuer: TrustedIssuer, req: AuthRequest, browser: str | None
) -> tuple[str, str]:
    """Where to send the browser, and the browser cookie (reused when it already has one)."""
    if issuer.status != "active":
        raise FederationFailure(f"issuer {issuer.code} is disabled", f"{issuer.name}登录已停用")
    meta = await rt.federation.metadata(issuer.issuer)
    browser = browser or opaque_token()
    state, nonce, verifier = opaque_token(), opaque_token(), opaque_token() + opaque_token()[:20]
    at = now()
    session.add(
        FederatedLogin(
            state_hash=sha256_hex(state),
            browser_hash=sha256_hex(browser),
            issuer_id=issuer.id or 0,
            nonce=nonce,
            code_verifier=verifier,
            request=req.as_form(),
            created_at=at,
            expires_at=at + rt.settings.identity_federation_login_seconds,
        )
    )
    await session.flush()
    client = issuer_client(rt, issuer)
    location = rt.federation.authorize_url(
        meta, client, callback_uri(rt.settings), state, nonce, _challenge(verifier)
    )
    return location, browser


async def take_login(
    session: AsyncSession, state: str | None, browser: str | None
) -> tuple[FederatedLogin, TrustedIssuer]:
    """The pending sign-in this callback answers, spent so that it answers only once."""
    if not state:
        raise FederationFailure("callback without state")
    stmt = select(FederatedLogin).where(col(FederatedLogin.state_hash) == sha256_hex(state))
    login = (await session.execute(stmt)).scalars().first()
    if login is None:
        raise FederationFailure("callback with an unknown state")
    if not browser or not hmac.compare_digest(login.browser_hash, sha256_hex(browser)):
        # Someone else's code pushed into this browser (login CSRF), or a lost cookie.
        raise FederationFailure("callback in another browser than the one that started it")
    at = now()
    spent = await session.execute(
        update(FederatedLogin)
        .where(col(FederatedLogin.id) == login.id, col(FederatedLogin.used_at).is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if int(spent.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise FederationFailure("callback state already used")
    if login.expires_at <= at:
        raise FederationFailure("sign-in at the issuer took too long", "登录已超时，请重新登录")
    issuer = await session.get(TrustedIssuer, login.issuer_id)
    if issuer is None or issuer.status != "active":
        raise FederationFailure("issuer removed or disabled meanwhile")
    return login, issuer


@dataclass(frozen=True)
class Outcome:
    user: User
    signin: FederatedSignIn


def _username(code: str, subject: str) -> str:
    # A ':' never appears in a local username (schemas.Username), so no local account collides.
    name = f"{code}:{subject}"
    return name if len(name) <= 64 and subject.isprintable() else f"{code}:{sha256_hex(subject)[:40]}"


async def _account(
    session: AsyncSession, rt: IdentityRuntime, issuer: TrustedIssuer, redeemed: Redeemed, actor: Actor
) -> tuple[User, FederatedAccount]:
    subject = str(redeemed.claims["sub"])
    info = redeemed.userinfo
    preferred = str(info.get("preferred_username") or "")[:255]
    display = str(info.get("name") or preferred or subject)[:100]
    stmt = select(FederatedAccount).where(
        col(FederatedAccount.issuer_id) == issuer.id, col(FederatedAccount.subject) == subject
    )
    link = (await session.execute(stmt)).scalars().first()
    at = now()
    if link is None:
        created = await _create_account(session, rt, issuer, subject, display, preferred, at)
        if created is not None:
            user, link = created
            await audit.record(
                session,
                actor,
                "federation.account_created",
                user.username,
                {"issuer": issuer.code, "sub": subject},
            )
            return user, link
        # The same person's first sign-in in another tab won the race: use the account it made.
        link = (await session.execute(stmt)).scalars().one()
    found = await session.get(User, link.user_id)
    if found is None or found.status != "active":
        raise FederationFailure("local account disabled", "该账号已被本平台停用，请联系本平台管理员")
    if found.display_name != display:
        found.display_name = display
        found.updated_at = at
    link.preferred_username = preferred
    link.last_signin_at = at
    return found, link


async def _set_bindings(
    session: AsyncSession, user: User, wanted: list[LocalBinding], by: str
) -> list[LocalBinding]:
    """Make the account's bindings exactly `wanted`; the ones removed."""
    keys = {(b.role.value, b.site) for b in wanted}
    current = await bindings_of(session, user.id or 0)
    removed: list[LocalBinding] = []
    held: set[tuple[str, str | None]] = set()
    for row in current:
        if (row.role, row.site) in keys:
            held.add((row.role, row.site))
        else:
            removed.append(LocalBinding(role=Role(row.role), site=row.site))
            await session.delete(row)
    for role, site in sorted(keys - held, key=lambda k: (k[0], k[1] or "")):
        session.add(
            RoleBindingRow(user_id=user.id or 0, role=role, site=site, created_at=now(), created_by=by)
        )
    await session.flush()
    return removed


async def complete(
    session: AsyncSession, rt: IdentityRuntime, issuer: TrustedIssuer, redeemed: Redeemed, address: str
) -> Outcome:
    if str(redeemed.userinfo.get("kind", "user")) != "user":
        raise FederationFailure("the issuer's subject is not a person")
    actor = Actor(f"{issuer.code}:{redeemed.claims['sub']}"[:100], address)
    user, link = await _account(session, rt, issuer, redeemed, actor)
    rules = [ClaimRule.model_validate(r) for r in issuer.mapping]
    claims = source_bindings(redeemed.userinfo)
    mapped, unmapped, granted = evaluate(rules, claims)
    removed = await _set_bindings(session, user, granted, f"federation:{issuer.code}")
    report = {
        "preferred_username": link.preferred_username,
        "mapped": [m.model_dump(mode="json") for m in mapped],
        "unmapped": [u.model_dump(mode="json") for u in unmapped],
        "unused_claims": unused_claims(redeemed.claims, redeemed.userinfo),
        "bindings": [b.model_dump(mode="json") for b in granted],
        "removed": [b.model_dump(mode="json") for b in removed],
    }
    row = FederatedSignIn(
        issuer_id=issuer.id or 0,
        user_id=user.id or 0,
        subject=link.subject,
        at=now(),
        report=report,
        unmapped_count=len(unmapped),
    )
    session.add(row)
    await session.flush()
    await audit.record(session, actor, "federation.signin", user.username, {"issuer": issuer.code, **report})
    return Outcome(user, row)


async def _create_account(
    session: AsyncSession,
    rt: IdentityRuntime,
    issuer: TrustedIssuer,
    subject: str,
    display: str,
    preferred: str,
    at: float,
) -> tuple[User, FederatedAccount] | None:
    """A new local account linked to issuer + sub, or None when a concurrent sign-in made it."""
    password_hash = await rt.passwords.hash(opaque_token())  # nobody knows it: issuer sign-in only
    try:
        async with session.begin_nested():
            user = User(
                username=_username(issuer.code, subject),
                display_name=display,
                password_hash=password_hash,
                kind="staff",
                created_at=at,
                updated_at=at,
            )
            session.add(user)
            await session.flush()
            link = FederatedAccount(
                issuer_id=issuer.id or 0,
                subject=subject,
                user_id=user.id or 0,
                preferred_username=preferred,
                created_at=at,
                last_signin_at=at,
            )
            session.add(link)
            await session.flush()
    except IntegrityError:
        return None
    return user, link
