"""Who may read a site's inspection figures: its site administrator, auditors, the system administrator."""

from __future__ import annotations

from services.kernel.auth import Principal
from services.kernel.errors import Forbidden
from services.kernel.roles import Role


def require_site_reader(principal: Principal, site: str) -> None:
    if principal.is_internal or principal.has_any_role(
        (Role.PLATFORM_ADMIN, Role.AUDITOR, Role.SITE_ADMIN), site
    ):
        return
    raise Forbidden("需要该站点的站点管理员、审计员或系统管理员角色")


def require_platform_reader(principal: Principal) -> None:
    # site=None matches platform-wide bindings only
    if principal.is_internal or principal.has_any_role((Role.PLATFORM_ADMIN, Role.AUDITOR)):
        return
    raise Forbidden("需要系统管理员或全平台审计员角色")


def require_rule_editor(principal: Principal) -> None:
    if principal.is_internal or principal.has_role(Role.PLATFORM_ADMIN):
        return
    raise Forbidden("需要系统管理员（platform_admin）角色")


def require_report_editor(principal: Principal, site: str) -> None:
    """The site's own figures are entered by its administrator (or the system administrator)."""
    if principal.is_internal or principal.has_any_role((Role.PLATFORM_ADMIN, Role.SITE_ADMIN), site):
        return
    raise Forbidden("需要该站点的站点管理员或系统管理员角色")


def dashboard_sites(principal: Principal) -> frozenset[str] | None:
    """Which sites' pages the dashboard shows (None: all), by the same rules as the JSON API:
    platform-wide administrators and auditors see every site, a site's administrator or
    auditor sees that site; anyone else is refused."""
    if principal.is_internal or principal.has_any_role((Role.PLATFORM_ADMIN, Role.AUDITOR)):
        return None
    own = frozenset(b.site for b in principal.roles if b.site and b.role in (Role.SITE_ADMIN, Role.AUDITOR))
    if not own:
        raise Forbidden("运维监控仅对系统管理员、审计员和站点管理员开放")
    return own


def require_incident_editor(principal: Principal, site: str) -> None:
    """Recording and handling a site's security incidents: its administrator or the system administrator."""
    require_report_editor(principal, site)
