"""Background work: the usage register follows content's publication events; taken-down
bytes are destroyed when their retention ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.consumer import FeedConsumer
from services.kernel.context import ServiceContext, Worker
from services.kernel.feed import FeedEvent
from services.resources.service.takedown import purge_due
from services.resources.service.usage import apply_publication_event
from services.resources.storage import ObjectStore

log = logging.getLogger("jiyue.resources.workers")

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


class UsageConsumer(FeedConsumer):
    name = "content-publications"

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
