"""What a suspended or offline site answers instead of its content (articles 19-23).

A suspended site answers 503 with Retry-After until its `resume_at` and shows its notice. An
offline site's content has moved to the portal with the same ids, so a GET of a delivery or
search path is permanently redirected (308) to the same path under `redirect_to`; other
requests get 410 with the notice.

`redirect_to` is either a site code (the site it moved to: its first domain, else its
`/sites/{code}` prefix) or a base URL (`https://www.example.gov.cn`, `/sites/portal`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from gateway.cache import cache_kind
from gateway.tenancy import SiteEntry, SiteRegistry
from services.kernel import clock
from services.kernel.app import problem_response
from services.kernel.errors import Problem, SiteMoved, SiteOffline, SiteSuspended
from services.kernel.logs import request_id_var

DEFAULT_RETRY_SECONDS = 3600
_ITEMS = "/api/content/v1/items/"
_SITE_DOCUMENT = "/api/content/v1/site"


def retry_after(resume_at: str | None, now: datetime | None = None) -> int:
    if not resume_at:
        return DEFAULT_RETRY_SECONDS
    try:
        when = datetime.fromisoformat(resume_at)
    except ValueError:
        return DEFAULT_RETRY_SECONDS
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or clock.now())).total_seconds()
    return max(1, math.ceil(seconds)) if seconds > 0 else DEFAULT_RETRY_SECONDS


def redirect_base(site: SiteEntry, sites: SiteRegistry, scheme: str) -> str | None:
    target = (site.redirect_to or "").strip()
    if not target:
        return None
    if "://" in target or target.startswith("/"):
        return target.rstrip("/")
    moved_to = sites.by_code.get(target)
    if moved_to is not None and moved_to.domains:
        return f"{scheme}://{moved_to.domains[0]}"
    return f"/sites/{target}"


def moved_path(path: str, query: str) -> str:
    """Items and searches keep their path (ids survive the move); lists go to the site front."""
    if path.startswith(_ITEMS) or path.startswith("/api/search/"):
        return path + (f"?{query}" if query else "")
    return _SITE_DOCUMENT


def closed_site_response(
    site: SiteEntry, sites: SiteRegistry, method: str, path: str, query: str, scheme: str
) -> Any | None:
    """The ASGI response standing in for a closed site, or None when the site is open."""
    if site.status == "suspended":
        seconds = retry_after(site.resume_at)
        problem = Problem(
            type=SiteSuspended.type_uri(),
            title=SiteSuspended.title,
            status=SiteSuspended.status,
            detail=site.notice or f"网站 {site.name or site.code} 暂停访问",
            instance=path,
            request_id=request_id_var.get(),
            extra={"site": site.code, "resume_at": site.resume_at, "notice": site.notice},
        )
        return problem_response(problem, {"Retry-After": str(seconds)})
    if site.status != "offline":
        return None
    base = redirect_base(site, sites, scheme)
    if base is not None and method in ("GET", "HEAD") and cache_kind(path) is not None:
        location = base + moved_path(path, query)
        problem = Problem(
            type=SiteMoved.type_uri(),
            title=SiteMoved.title,
            status=SiteMoved.status,
            detail=site.notice or f"网站 {site.name or site.code} 已下线",
            instance=path,
            request_id=request_id_var.get(),
        )
        return problem_response(problem, {"Location": location})
    problem = Problem(
        type=SiteOffline.type_uri(),
        title=SiteOffline.title,
        status=SiteOffline.status,
        detail=site.notice or f"网站 {site.name or site.code} 已下线",
        instance=path,
        request_id=request_id_var.get(),
        extra={"site": site.code, "redirect_to": base, "notice": site.notice},
    )
    return problem_response(problem)
