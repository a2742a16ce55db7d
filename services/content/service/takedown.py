"""The content side of a takedown (下架): resources announces `resource.takendown` when a
platform administrator takes leaked personal data down; every publication that uses the
resource is withdrawn through the ordinary withdraw path, so search drops the hit on
`publication.withdrawn` and the delivery caches let go of the item on commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication
from services.content.service.review import take_down
from services.kernel.consumer import FeedConsumer
from services.kernel.feed import FeedEvent

TOPIC = "resource.takendown"
# What take_down accepts; archived items are frozen by the archive rules and stay (their
# attachments are unreachable all the same: resources blocks the bytes).
WITHDRAWABLE = ("draft", "in_review", "approved", "published")


async def withdraw_uses(session: AsyncSession, resource_id: int, reason: str) -> list[int]:
    rows = (
        await session.execute(
            select(Publication)
            .where(col(Publication.resource_id) == resource_id, col(Publication.status).in_(WITHDRAWABLE))
            .order_by(col(Publication.id))
            .with_for_update()
        )
    ).scalars()
    withdrawn: list[int] = []
    for publication in list(rows):
        if publication.status not in WITHDRAWABLE:  # a copy an earlier take_down already withdrew
            continue
        await take_down(session, publication, None, {"opinion": f"资源已被平台下架：{reason}"})
        assert publication.id is not None
        withdrawn.append(publication.id)
    return withdrawn


class TakedownConsumer(FeedConsumer):
    """Follows resources' feed for takedowns; idempotent (a replay finds nothing left to withdraw)."""

    name = "resources-takedowns"

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic == TOPIC:
            await withdraw_uses(session, int(event.key), str(event.payload.get("reason", "")))
