"""Background work: the usage register follows content's publication events; taken-down
bytes are destroyed when their retention ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.client import ServiceDirectory
from services.kernel.consumer import FeedConsumer
from services.kernel.context import ServiceContext, Worker
from services.kernel.feed import FeedEvent
from services.resources.service.takedown import purge_due
from services.resources.service.usage import apply_publication_event, retire_absent_usages
from services.resources.storage import ObjectStore

log = logging.getLogger("jiyue.resources.workers")

# (after publication id, limit) -> content's live index documents with publication_id > after
SnapshotFetch = Callable[[int, int], Awaitable[list[dict[str, Any]]]]

PUBLICATION_TOPICS = [
    f"publication.{state}"
    for state in (
        "created",
        "submitted",
        "approved",
        "rejected",
        "published",
        "withdrawn",
        "archived",
        "moved",
        "updated",
    )
]


def content_snapshot(directory: ServiceDirectory) -> SnapshotFetch:
    async def fetch(after: int, limit: int) -> list[dict[str, Any]]:
        resp = await directory.client("content").get(
            "/api/content/v1/index-documents", params={"after": after, "limit": limit}
        )
        resp.raise_for_status()
        return list(resp.json().get("items", []))

    return fetch


class UsageConsumer(FeedConsumer):
    name = "content-publications"

    def __init__(self, *args: Any, snapshot: SnapshotFetch, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.snapshot = snapshot

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic.startswith("publication."):
            await apply_publication_event(session, event)


async def purge_pass(ctx: ServiceContext, store: ObjectStore) -> int:
    async with ctx.db.session() as session:
        return await purge_due(session, store)


def purge_worker(ctx: ServiceContext, store: ObjectStore, interval: float) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await purge_pass(ctx, store)
            except Exception:
                log.exception("takedown purge pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return run

    async def rebuild(self, head: int) -> None:
        """The register from content's live publications; live rows content no longer serves
        were withdrawn while this consumer was away."""
        seen: set[int] = set()
        after = 0
        while page := await self.snapshot(after, 500):
            async with self.db.session() as session:
                for doc in page:
                    pub_id = int(doc["publication_id"])
                    seen.add(pub_id)
                    event = FeedEvent(
                        cursor=head,
                        topic=f"publication.{doc.get('status')}",
                        key=str(pub_id),
                        site_id=doc.get("site"),
                        payload=doc,
                        created_at="",
                    )
                    await apply_publication_event(session, event)
            after = max(int(d["publication_id"]) for d in page)
        async with self.db.session() as session:
            await retire_absent_usages(session, seen, head)
