"""Who handles a site's letters: its staff, by role binding on the owning site.

The resources engineer's shared `services/kernel/access.py` is not on main yet; until it is,
this is the one place the interaction service decides access.
"""

from __future__ import annotations

from services.kernel.auth import Principal
from services.kernel.roles import SITE_STAFF_ROLES, Role


def can_handle(principal: Principal | None, site: str) -> bool:
    if principal is None:
        return False
    return principal.is_internal or principal.has_any_role(SITE_STAFF_ROLES, site)


def can_configure(principal: Principal | None, site: str) -> bool:
    return principal is not None and (principal.is_internal or principal.has_role(Role.SITE_ADMIN, site))


def is_platform_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.has_role(Role.PLATFORM_ADMIN)
