"""The consumer that keeps the index in step with content's publications."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.consumer import FeedConsumer
from services.kernel.feed import FeedEvent
from services.kernel.memory import release_free_memory
from services.search.backends.base import SearchBackend
from services.search.indexing import flush_dirty, pending_count, record_document
from services.search.reindex import PageFetch, rebuild

DocumentFetch = Callable[[list[int]], Awaitable[list[dict[str, Any]]]]

log = logging.getLogger("jiyue.search.worker")

FEED_LAG = Gauge("jiyue_feed_lag", "Events a feed consumer has not processed yet", ["consumer"])
PENDING = Gauge("jiyue_search_pending_documents", "Recorded documents not yet in the search engine")

TOPIC_PREFIX = "publication."


class PublicationIndexer(FeedConsumer):
    """Records each publication event with the cursor, then flushes dirty rows to the engine.

    A crash after the database commit but before the engine commit leaves the rows dirty, and
    the next `run_once` flushes them first, so nothing recorded is ever missing from the index.
    """

    name = "search-publications"
    batch_size = 200

    def __init__(
        self,
        *args: Any,
        backend: SearchBackend,
        documents: DocumentFetch,
        snapshot: PageFetch,
        flush_batch: int = 500,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.backend = backend
        self.documents = documents
        self.snapshot = snapshot
        self.flush_batch = flush_batch
        self._batch_docs: dict[int, dict[str, Any]] = {}

    async def before_batch(self, events: list[FeedEvent]) -> None:
        # Events are references; fetch the current documents they name, one request per batch.
        ids = sorted(
            {
                int(e.payload["publication_id"])
                for e in events
                if e.topic.startswith(TOPIC_PREFIX) and "publication_id" in e.payload
            }
        )
        self._batch_docs = {int(d["publication_id"]): d for d in await self.documents(ids)} if ids else {}

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if not event.topic.startswith(TOPIC_PREFIX) or "publication_id" not in event.payload:
            return
        # A publication the source no longer serves is recorded from the reference (its state).
        doc = self._batch_docs.get(int(event.payload["publication_id"]), event.payload)
        await record_document(session, doc)

    async def rebuild(self, head: int) -> None:
        await rebuild(self.db, self.backend, self.snapshot)

    async def after_batch(self, events: list[FeedEvent]) -> None:
        if await flush_dirty(self.db, self.backend, self.flush_batch):
            # A flush turned up to 500 bodies into token strings and let them go; returned to
            # the system now, they are not what the next batch of another thread piles onto.
            release_free_memory()

    async def run_once(self) -> int:
        leftover = await flush_dirty(self.db, self.backend, self.flush_batch)
        count = await super().run_once()
        await self.report_metrics()
        return count or (1 if leftover else 0)

    async def report_metrics(self) -> None:
        try:
            status = await self.status()
            FEED_LAG.labels(consumer=self.name).set(status.get("lag", 0))

            async with self.db.session() as session:
                PENDING.set(await pending_count(session))
        except Exception as exc:  # metrics must never stop indexing
            log.debug("metrics update failed: %s", exc)
