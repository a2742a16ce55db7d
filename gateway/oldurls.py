"""Old addresses of imported sites (整合迁移): 301 to the item's new page.

An imported item records the path it had on the old site. A GET of such a path on the
site's host (or under /sites/{code}) answers 301 to the item; once the site has closed and its
content moved to the portal (article 20), the portal answers the old path too, and the closed
site's own host redirects to the portal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from starlette.responses import RedirectResponse

from gateway.endpoints import is_operator_path
from gateway.sitestatus import redirect_base

if TYPE_CHECKING:
    from gateway.request import GatewayRequest
    from gateway.tenancy import SiteRegistry
    from services.kernel.client import ServiceDirectory

ITEM = "/api/content/v1/items/{id}"
# Paths the gateway itself answers on a site's host, never old addresses.
_OWN = ("/", "/favicon.ico", "/robots.txt")


def may_be_old(req: GatewayRequest) -> bool:
    return (
        req.site is not None
        and req.method in ("GET", "HEAD")
        and req.path not in _OWN
        and not req.path.startswith(("/api/", "/.well-known/"))
        and not is_operator_path(req.path)
    )


async def lookup(directory: ServiceDirectory, site: str, path: str) -> dict[str, Any] | None:
    if not directory.knows("content"):
        return None
    try:
        resp = await directory.client("content").get("/api/content/v1/old-urls", params={"site": site, "path": path})
    except httpx.HTTPError:
        return None
    if resp.status_code != 200:
        return None
    found: dict[str, Any] = resp.json()
    return found


async def redirect(req: GatewayRequest, directory: ServiceDirectory, sites: SiteRegistry) -> Any | None:
    """The 301 for an old address of the request's site, or None when it names nothing."""
    assert req.site is not None
    query = req.query.decode("latin-1")
    found = await lookup(directory, req.site.code, req.path + (f"?{query}" if query else ""))
    if found is None and query:
        found = await lookup(directory, req.site.code, req.path)
    if found is None:
        return None
    item = ITEM.format(id=int(found["publication_id"]))
    scheme = req.scope.get("scheme", "http")
    prefixed = str(req.scope.get("path", "")).startswith("/sites/")
    if found["site"] == req.site.code:
        location = f"/sites/{req.site.code}{item}" if prefixed else item
    else:
        target = sites.by_code.get(found["site"])
        moved = redirect_base(req.site, sites, scheme) if req.site.status == "offline" else None
        if moved is None and target is not None and target.domains and not prefixed:
            moved = f"{scheme}://{target.domains[0]}"
        location = (moved or f"/sites/{found['site']}") + item
    return RedirectResponse(location, status_code=301)
