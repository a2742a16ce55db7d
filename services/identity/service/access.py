"""Three-way administration (等保三级三权分立): who may do which job.

The system administrator (platform_admin) runs organisations, users and clients; the security
administrator (security_admin) runs role bindings, keys and the password/lockout policy; the
audit administrator (audit_admin) only reads and verifies the audit log. None may do another's
job, and nobody may hold two of the three roles. The platform's internal machine client may
do everything (the demo and service-to-service setup go through it).
"""

from __future__ import annotations

from services.kernel.auth import Principal
from services.kernel.errors import Forbidden

SEPARATED_ROLES = ("platform_admin", "security_admin", "audit_admin")


def _platform_role(principal: Principal, role: str) -> bool:
    return principal.is_internal or any(b.role == role and b.site is None for b in principal.roles)


def require_system_admin(principal: Principal) -> None:
    if not _platform_role(principal, "platform_admin"):
        raise Forbidden("需要系统管理员（platform_admin）权限")


def require_security_admin(principal: Principal) -> None:
    if not _platform_role(principal, "security_admin"):
        raise Forbidden("需要安全管理员（security_admin）权限")


def require_auditor(principal: Principal) -> None:
    if not (_platform_role(principal, "audit_admin") or _platform_role(principal, "auditor")):
        raise Forbidden("需要审计管理员（audit_admin）或全平台审计员权限")


def require_user_reader(principal: Principal) -> None:
    """The security administrator must see accounts to bind roles, but not change them."""
    if not (_platform_role(principal, "platform_admin") or _platform_role(principal, "security_admin")):
        raise Forbidden("需要系统管理员或安全管理员权限")


def actor_name(principal: Principal) -> str:
    return str(principal.claims.get("preferred_username") or principal.client_id or principal.sub)
