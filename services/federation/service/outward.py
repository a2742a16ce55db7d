"""What this platform tells its peers: public items going live or withdrawn, and the site
registry. Federation follows the local content feed and writes these to its own feed, which
peers read through `/peer/changes` within the scopes they were granted — never content's or
any other service's feed, which carry non-public references."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation.models import feed_tables
from services.federation.vocab import Topic
from services.kernel.feed import FeedEvent, emit

SITE_TOPICS = ("site.created", "site.updated", "site.status")
CONTENT_TOPICS = ["publication.published", "publication.withdrawn", *SITE_TOPICS]
_REGISTRY_FIELDS = (
    "code", "name", "kind", "parent_code", "status", "domains", "id_code", "icp_no", "psb_no",
    "host_org", "operator_org", "notice", "moved_to", "resume_at",
)  # fmt: skip


def item_url(public_url: str, site: str, publication_id: int) -> str:
    return f"{public_url.rstrip('/')}/sites/{site}/api/content/v1/items/{publication_id}"


async def site_entry(content: httpx.AsyncClient, code: str, fallback: dict[str, Any]) -> dict[str, Any]:
    """The site's registry entry with its filings (标识码, ICP, 公安备案), read from content now."""
    resp = await content.get(f"/api/content/v1/sites/{code}")
    if resp.status_code == 404:
        return {k: v for k, v in fallback.items() if k in _REGISTRY_FIELDS}
    resp.raise_for_status()
    body = resp.json()
    return {k: body.get(k) for k in _REGISTRY_FIELDS}


async def relay(session: AsyncSession, event: FeedEvent, content: httpx.AsyncClient, public_url: str) -> None:
    """One local content event onto federation's feed (one outbox row in the consumer's transaction)."""
    p = event.payload
    if event.topic == "publication.published":
        pid = int(p["publication_id"])
        site = str(p["site"])
        payload = {
            "publication_id": pid,
            "site": site,
            "column_id": p.get("column_id"),
            "important": bool(p.get("important")),
            "title": p.get("title"),
            "resource_id": p.get("resource_id"),
            "url": item_url(public_url, site, pid),
        }
        await emit(session, feed_tables, Topic.PUBLISHED, pid, payload, site)
    elif event.topic == "publication.withdrawn":
        pid = int(p["publication_id"])
        payload = {"publication_id": pid, "site": p.get("site")}
        await emit(session, feed_tables, Topic.WITHDRAWN, pid, payload, p.get("site"))
    elif event.topic in SITE_TOPICS:
        code = str(p.get("code") or event.key)
        entry = await site_entry(content, code, p)
        entry["action"] = p.get("action") or event.topic
        await emit(session, feed_tables, Topic.SITE, code, entry, code)
