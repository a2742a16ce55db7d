"""What identity makes sure of at every start (idempotent, safe for several replicas)."""

from __future__ import annotations

import logging
import sys
import unicodedata

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import (
    AddressThrottle,
    AuthorizationCode,
    FederatedLogin,
    OAuthClient,
    RefreshToken,
    RoleBindingRow,
    SsoSession,
    User,
)
from services.identity.service import audit, keys
from services.identity.service.accounts import user_by_username
from services.identity.service.clients import get_client, hash_secret, secret_matches
from services.identity.service.common import now
from services.identity.service.passwords import check_policy, generate_password
from services.identity.service.runtime import IdentityRuntime
from services.kernel.client import (
    DASHBOARD_CALLBACK_PATH,
    DASHBOARD_CLIENT_ID,
    INTERNAL_CLIENT_ID,
    INTERNAL_SCOPES,
)
from services.kernel.db import Database
from services.kernel.roles import Role
from services.kernel.runtime import internal_secret

log = logging.getLogger("jiyue.identity")

CONSOLE_CLIENT_ID = "jiyue-console"
SYSTEM = "system"


def _display_width(text: str) -> int:
    """Columns a terminal uses: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _announce_admin_password(password: str) -> None:
    lines = [
        "系统管理员账号 admin 已创建（仅显示这一次，请立即保存并修改）",
        "The system administrator `admin` was created; its password is shown only once:",
        "",
        "    用户名 username: admin",
        f"    密码   password: {password}",
        "",
        "设置 JIYUE_ADMIN_PASSWORD 可指定该密码。",
    ]
    width = max(_display_width(line) for line in lines) + 4
    bar = "═" * width
    body = [f"║  {line}{' ' * (width - 2 - _display_width(line))}║" for line in lines]
    out = [f"╔{bar}╗", *body, f"╚{bar}╝"]
    print("\n".join(out), file=sys.stderr, flush=True)


async def ensure_admin(session: AsyncSession, rt: IdentityRuntime) -> None:
    if await user_by_username(session, "admin") is not None:
        return
    password = rt.settings.admin_password
    generated = not password
    if generated:
        password = generate_password(20)
    else:
        check_policy(password, field="JIYUE_ADMIN_PASSWORD")
    at = now()
    user = User(
        username="admin",
        display_name="系统管理员",
        password_hash=await rt.passwords.hash(password),
        kind="staff",
        created_at=at,
        updated_at=at,
    )
    session.add(user)
    await session.flush()
    session.add(
        RoleBindingRow(
            user_id=user.id or 0, role=Role.PLATFORM_ADMIN, site=None, created_at=at, created_by=SYSTEM
        )
    )
    await audit.record(
        session, SYSTEM, "user.created", "admin", {"kind": "staff", "role": Role.PLATFORM_ADMIN.value}
    )
    if generated:
        _announce_admin_password(password)


async def ensure_clients(session: AsyncSession, rt: IdentityRuntime) -> None:
    secret = internal_secret(rt.settings)
    at = now()
    internal = await get_client(session, INTERNAL_CLIENT_ID)
    if internal is None:
        session.add(
            OAuthClient(
                client_id=INTERNAL_CLIENT_ID,
                name="平台内部服务",
                kind="confidential",
                secret_hash=hash_secret(secret),
                redirect_uris=[],
                grants=["client_credentials"],
                scopes=INTERNAL_SCOPES,
                first_party=True,
                created_at=at,
                updated_at=at,
            )
        )
        await audit.record(
            session, SYSTEM, "client.created", INTERNAL_CLIENT_ID, {"grants": ["client_credentials"]}
        )
    elif not secret_matches(internal, secret):
        internal.secret_hash = hash_secret(secret)
        internal.updated_at = at
        await audit.record(session, SYSTEM, "client.updated", INTERNAL_CLIENT_ID, {"secret": "rotated"})
    if await get_client(session, CONSOLE_CLIENT_ID) is None:
        session.add(
            OAuthClient(
                client_id=CONSOLE_CLIENT_ID,
                name="平台管理控制台",
                kind="public",
                redirect_uris=[],
                grants=["password", "refresh_token"],
                scopes="openid profile",
                first_party=True,
                created_at=at,
                updated_at=at,
            )
        )
        await audit.record(
            session, SYSTEM, "client.created", CONSOLE_CLIENT_ID, {"grants": ["password", "refresh_token"]}
        )
    await _ensure_dashboard(session, rt)


async def _ensure_dashboard(session: AsyncSession, rt: IdentityRuntime) -> None:
    """The operator dashboard's client; its callback follows the public URL when that changes."""
    callback = [rt.settings.issuer + DASHBOARD_CALLBACK_PATH]
    dashboard = await get_client(session, DASHBOARD_CLIENT_ID)
    if dashboard is None:
        at = now()
        session.add(
            OAuthClient(
                client_id=DASHBOARD_CLIENT_ID,
                name="运维监控与统计分析",
                kind="public",
                redirect_uris=callback,
                grants=["authorization_code"],
                scopes="openid profile",
                first_party=True,
                created_at=at,
                updated_at=at,
            )
        )
        await audit.record(
            session, SYSTEM, "client.created", DASHBOARD_CLIENT_ID, {"redirect_uris": callback}
        )
    elif list(dashboard.redirect_uris) != callback:
        dashboard.redirect_uris = callback
        dashboard.updated_at = now()
        await audit.record(
            session, SYSTEM, "client.updated", DASHBOARD_CLIENT_ID, {"redirect_uris": callback}
        )


async def purge_expired(session: AsyncSession, keep_seconds: float = 86400) -> None:
    """Drop spent codes, sessions, refresh tokens and address counters a day after they end
    (long enough for a reuse to still be recognised as reuse)."""
    cutoff = now() - keep_seconds
    await session.execute(delete(AuthorizationCode).where(col(AuthorizationCode.expires_at) < cutoff))
    await session.execute(delete(SsoSession).where(col(SsoSession.expires_at) < cutoff))
    await session.execute(delete(RefreshToken).where(col(RefreshToken.expires_at) < cutoff))
    await session.execute(delete(AddressThrottle).where(col(AddressThrottle.window_start) < cutoff))
    await session.execute(delete(FederatedLogin).where(col(FederatedLogin.expires_at) < cutoff))


async def bootstrap(db: Database, rt: IdentityRuntime) -> None:
    for attempt in range(3):
        try:
            async with db.session() as session:
                await keys.ensure_key(session, rt.keys)
                await keys.prune(session)
                await purge_expired(session)
                await ensure_admin(session, rt)
                await ensure_clients(session, rt)
            return
        except IntegrityError:
            # Another replica bootstrapped at the same moment; its rows are there now.
            if attempt == 2:
                raise
            log.info("identity bootstrap raced another instance; retrying")
