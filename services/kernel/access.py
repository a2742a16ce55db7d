"""The platform's one access model (docs/contracts.md, "Access").

The tenant a request names (Host or `/sites/{code}` prefix, `SiteDep`) only says which site's
*public* face is asked for; the client chooses it, so it never grants anything. Whether a
caller may see or change a non-public thing is decided by the caller's own role bindings on
the site that OWNS the thing. A caller who may not see a non-public object gets 404 — the same
answer as for an object that does not exist — never a 403 that confirms it is there.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.kernel.auth import Principal
from services.kernel.errors import Forbidden, NotFound
from services.kernel.roles import SITE_STAFF_ROLES, Role

# Platform roles that work on every site's material. The security and audit administrators
# (三员分立) manage accounts and read audit trails; they do not read sites' drafts.
PLATFORM_STAFF_ROLES: tuple[Role, ...] = (Role.PLATFORM_ADMIN,)
# Who writes a site's material.
WRITER_ROLES: tuple[Role, ...] = (Role.EDITOR, Role.SITE_ADMIN)


def holds(principal: Principal | None, owner_site: str, roles: Iterable[str]) -> bool:
    """A binding of one of `roles` on `owner_site` (or platform-wide), a platform staff role,
    or the platform's internal machine client."""
    if principal is None:
        return False
    wanted = (*PLATFORM_STAFF_ROLES, *roles)
    return principal.is_internal or principal.has_any_role(wanted, owner_site)


def can_read(principal: Principal | None, owner_site: str) -> bool:
    """May the caller see `owner_site`'s non-public material (drafts, stored resources, inboxes)?"""
    return holds(principal, owner_site, SITE_STAFF_ROLES)


def can_write(principal: Principal | None, owner_site: str) -> bool:
    return holds(principal, owner_site, WRITER_ROLES)


def require_read(principal: Principal | None, owner_site: str, what: str = "对象") -> None:
    if not can_read(principal, owner_site):
        raise NotFound(f"{what}不存在")


def require_write(principal: Principal | None, owner_site: str, what: str = "对象") -> None:
    """Writing needs a writer's binding; a caller who may not even read it learns nothing (404),
    one who may read it is told why not (403)."""
    if can_write(principal, owner_site):
        return
    if can_read(principal, owner_site):
        raise Forbidden(f"需要站点 {owner_site} 的编辑或站点管理员角色")
    raise NotFound(f"{what}不存在")


def require_roles(
    principal: Principal | None, owner_site: str, roles: Iterable[str], what: str = "对象"
) -> None:
    if not holds(principal, owner_site, roles):
        raise NotFound(f"{what}不存在")
