"""Feed consumers: the usage register follows content's publication events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.consumer import FeedConsumer
from services.kernel.feed import FeedEvent
from services.resources.service.usage import apply_publication_event

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
