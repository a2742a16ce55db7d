"""Interaction's consultations, surveys and interviews as search documents.

Interaction's feed carries an item's public face (`listing`) on every state change of a public
item, and nothing of it otherwise; an event without `listing` removes the item. The events are
recorded as `search_document` rows beside content's publications, under ids of their own (a
kind's base plus the item's id), so the one dirty-row flush serves both sources.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.consumer import FeedConsumer
from services.kernel.db import Database
from services.kernel.feed import FeedEvent
from services.search.backends.base import SearchBackend
from services.search.indexing import flush_dirty, record_document

log = logging.getLogger("jiyue.search.interaction")

# Content's publication ids stay far below 2**40; each kind gets a band of its own above.
INTERACTION_ID_BASE = 1 << 40
KIND_ID_BASE: dict[str, int] = {
    "consultation": 1 << 40,
    "survey": 2 << 40,
    "interview": 3 << 40,
}
# Only the items' own lifecycle topics: comment.* events say nothing of the consultation's face.
TOPIC_KIND = {f"{kind}.": kind for kind in KIND_ID_BASE}
ITEM_STATUSES = {"open", "closed", "feedback_published", "scheduled", "live", "ended", "archived"}


def search_id(kind: str, item_id: int) -> int:
    return KIND_ID_BASE[kind] + item_id


def document_from_event(event: FeedEvent) -> dict[str, Any] | None:
    """The row payload an interaction event stands for, or None when it is not about an item."""
    kind = next((k for prefix, k in TOPIC_KIND.items() if event.topic.startswith(prefix)), None)
    if kind is None:
        return None
    item_id = event.payload.get(f"{kind}_id")
    if item_id is None:
        return None
    sid = search_id(kind, int(item_id))
    site = str(event.payload.get("site") or event.site_id or "")
    listing = event.payload.get("listing")
    status = str(event.payload.get("status") or "")
    if not isinstance(listing, dict) or status not in ITEM_STATUSES:
        return {"publication_id": sid, "resource_id": sid, "site": site, "status": "removed", "kind": kind}
    return {
        "publication_id": sid,
        "resource_id": sid,
        "site": site,
        "status": "published",
        "kind": kind,
        "item_status": status,
        "title": str(listing.get("title") or ""),
        "body_text": str(listing.get("text") or ""),
        "url": str(listing.get("url") or ""),
        "published_at": listing.get("published_at"),
        "starts_at": listing.get("starts_at"),
        "ends_at": listing.get("ends_at"),
    }


class InteractionIndexer(FeedConsumer):
    """Follows interaction's feed; the events carry all it records, so no fetch per batch."""

    name = "search-interaction"
    batch_size = 200

    def __init__(
        self, db: Database, *args: Any, backend: SearchBackend, flush_batch: int = 500, **kw: Any
    ) -> None:
        super().__init__(db, *args, **kw)
        self.backend = backend
        self.flush_batch = flush_batch

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        doc = document_from_event(event)
        if doc is not None:
            await record_document(session, doc)

    async def after_batch(self, events: list[FeedEvent]) -> None:
        await flush_dirty(self.db, self.backend, self.flush_batch)
