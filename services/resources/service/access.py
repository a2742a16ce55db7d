"""The library's side of the access model (services.kernel.access) and the sharing scope."""

from __future__ import annotations

from services.kernel.access import can_read, can_write
from services.kernel.auth import Principal
from services.resources.models import Resource

# Resources nobody may place any more; their stored version is no longer served to the public.
CLOSED = ("retired", "taken_down")


def may_read(principal: Principal | None, resource: Resource) -> bool:
    return can_read(principal, resource.owner_site)


def may_write(principal: Principal | None, resource: Resource) -> bool:
    return can_write(principal, resource.owner_site)


def may_use(resource: Resource, site: str | None) -> bool:
    """The sharing scope: may a page on `site` show this resource's stored version?

    Asked only where a publication places a version (the internal `for_site` read), never to
    decide who may read the library.
    """
    if resource.scope == "public":
        return True
    if resource.scope == "platform":
        return site is not None
    return site == resource.owner_site
