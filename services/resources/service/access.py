"""Who may write a resource and which sites may use its stored versions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from services.kernel.auth import Principal
from services.resources.models import Resource

WRITER_ROLES = ("editor", "site_admin")


def now() -> float:
    return time.time()


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def can_write(principal: Principal | None, resource: Resource) -> bool:
    if principal is None:
        return False
    return (
        principal.is_internal
        or principal.has_role("platform_admin")
        or principal.has_any_role(WRITER_ROLES, resource.owner_site)
    )


def may_use(resource: Resource, site: str | None) -> bool:
    """The sharing scope: may a page on `site` show this resource's stored version?"""
    if resource.scope == "public":
        return True
    if resource.scope == "platform":
        return site is not None
    return site == resource.owner_site
