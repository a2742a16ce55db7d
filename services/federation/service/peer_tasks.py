"""Re-publication tasks (转载) a peer pushes to one of our sites, and the body content receives
for a peer's item whichever way it came (followed feed or pushed task): the item is always
fetched from the peer's public delivery, through the guarded client, never taken from the peer's
request, so a peer can only ask us to re-publish what it really publishes."""

from __future__ import annotations

from typing import Any

import httpx

from services.federation.models import Peer
from services.federation.service.link import PeerLink
from services.federation.task_schemas import PeerTaskIn, PeerTaskOut
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable

CONTENT = "/api/content/v1"


def item_body(
    link: PeerLink, peer: str, site: str, publication_id: int, item: dict[str, Any], url: str
) -> dict[str, Any]:
    """Content's `remote-items` body for the peer's public item (provenance included)."""
    return {
        "peer": peer,
        "site": site,
        "column_id": item["column_id"],
        "publication_id": publication_id,
        "title": item["title"],
        "body_html": item.get("body_html") or "",
        "metadata": item.get("metadata") or {},
        "index_no": item.get("index_no"),
        "attachments": item.get("attachments") or [],
        "resource_id": item.get("resource_id"),
        "resource_version": item.get("resource_version"),
        "url": url or f"{link.base_url}/sites/{site}{CONTENT}/items/{publication_id}",
        "published_at": item.get("published_at"),
    }


def public_link(peer: Peer, outbound: Any) -> PeerLink:
    """A link for the peer's public delivery only (no credentials needed to read it)."""
    return PeerLink(outbound, peer.base_url, peer.remote_client_id or "", "")


async def submit(link: PeerLink, content: httpx.AsyncClient, peer: str, body: PeerTaskIn) -> PeerTaskOut:
    item = await link.public_item(body.source_site, body.publication_id)
    if item is None:
        raise NotFound(f"对方平台站点 {body.source_site} 没有公开的信息 {body.publication_id}")
    doc = item_body(link, peer, body.source_site, body.publication_id, item, "")
    doc["target"] = {"site": body.site, "column_id": body.column_id}
    resp = await content.post(f"{CONTENT}/remote-items", json=doc)
    answer = resp.json() if resp.content else {}
    detail = str(answer.get("detail") or "") if isinstance(answer, dict) else ""
    if resp.status_code == 404:
        raise NotFound(detail or f"站点 {body.site} 或其栏目 {body.column_id} 不存在")
    if resp.status_code == 409:
        raise Conflict(detail or "该转载任务无法接收")
    if resp.status_code != 200:
        raise ServiceUnavailable(f"内容服务未能接收转载任务（HTTP {resp.status_code}）")
    return PeerTaskOut(
        task_id=int(answer["task_id"]),
        remote_item_id=int(answer["remote_item_id"]),
        created=bool(answer["tasks_created"]),
        site=body.site,
        column_id=body.column_id,
    )
