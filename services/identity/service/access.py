"""Three-way administration (等保三级三员分立): who may do which job, and to whom.

The system administrator (platform_admin) runs organisations, users and clients; the security
administrator (security_admin) runs role bindings, keys and the password/lockout policy; the
audit administrator (audit_admin) only reads and verifies the audit log. None may do another's
job, nobody may hold two of the three roles, nobody manages the account or the role bindings of
an administrator of another kind (else resetting their password would let one act as them), and
nobody changes their own role bindings. The platform's internal machine client may do
everything (the demo and service-to-service setup go through it).

Every refusal of the "to whom" kind is written to the audit log and committed before the 403,
so the attempt stays on record although the request fails.
"""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import RoleBindingRow, User
from services.identity.service import audit
from services.identity.service.common import Actor
from services.kernel.auth import Principal
from services.kernel.errors import Forbidden, NotFound
from services.kernel.roles import ADMIN_ROLES, Role


def _platform_role(principal: Principal, role: Role) -> bool:
    return principal.is_internal or any(b.role == role and b.site is None for b in principal.roles)


def require_system_admin(principal: Principal) -> None:
    if not _platform_role(principal, Role.PLATFORM_ADMIN):
        raise Forbidden("需要系统管理员（platform_admin）权限")


def require_security_admin(principal: Principal) -> None:
    if not _platform_role(principal, Role.SECURITY_ADMIN):
        raise Forbidden("需要安全管理员（security_admin）权限")


def require_auditor(principal: Principal) -> None:
    if not (_platform_role(principal, Role.AUDIT_ADMIN) or _platform_role(principal, Role.AUDITOR)):
        raise Forbidden("需要审计管理员（audit_admin）或全平台审计员权限")


def require_federation_reader(principal: Principal) -> None:
    """Who may read trusted issuers and what their claims mapped to: the security
    administrator who configures them, and the auditors who check them."""
    if not any(_platform_role(principal, r) for r in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.AUDITOR)):
        raise Forbidden("需要安全管理员、审计管理员或全平台审计员权限")


def require_user_reader(principal: Principal) -> None:
    """The security administrator must see accounts to bind roles, but not change them."""
    if not (_platform_role(principal, Role.PLATFORM_ADMIN) or _platform_role(principal, Role.SECURITY_ADMIN)):
        raise Forbidden("需要系统管理员或安全管理员权限")


def actor_name(principal: Principal) -> str:
    return str(principal.claims.get("preferred_username") or principal.client_id or principal.sub)


def _admin_kinds_of(principal: Principal) -> set[str]:
    return {b.role for b in principal.roles if b.role in ADMIN_ROLES and b.site is None}


async def _target(session: AsyncSession, user_id: int) -> tuple[User, set[str]]:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    stmt = select(col(RoleBindingRow.role)).where(col(RoleBindingRow.user_id) == user_id)
    held = {str(r) for r in (await session.execute(stmt)).scalars().all() if r in ADMIN_ROLES}
    return user, held


async def _refuse(
    session: AsyncSession, actor: Actor, user: User, action: str, reason: str, message: str
) -> NoReturn:
    await audit.record(session, actor, "access.refused", user.username, {"action": action, "reason": reason})
    await session.commit()  # the 403 rolls the request back; the record of the attempt must stay
    raise Forbidden(message)


async def guard_account(
    session: AsyncSession, principal: Principal, actor: Actor, user_id: int, action: str
) -> None:
    """Editing, disabling, enabling, unlocking or resetting the password of `user_id`."""
    if principal.is_internal:
        return
    user, held = await _target(session, user_id)
    foreign = held - _admin_kinds_of(principal)
    if foreign:
        await _refuse(
            session,
            actor,
            user,
            action,
            "other-administrator",
            f"三员分立：不能管理其他类管理员（{'、'.join(sorted(foreign))}）的账号",
        )


async def guard_roles(
    session: AsyncSession, principal: Principal, actor: Actor, user_id: int, action: str
) -> None:
    """Granting a role to, or revoking one from, `user_id`."""
    if principal.is_internal:
        return
    user, held = await _target(session, user_id)
    if principal.kind == "user" and principal.sub == str(user_id):
        await _refuse(session, actor, user, action, "self", "三员分立：不能为自己授予或收回角色")
    foreign = held - _admin_kinds_of(principal)
    if foreign:
        await _refuse(
            session,
            actor,
            user,
            action,
            "other-administrator",
            f"三员分立：不能变更其他类管理员（{'、'.join(sorted(foreign))}）的角色",
        )
