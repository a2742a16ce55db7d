"""A citizen's own feed (千人千网): the items their confirmed subscriptions matched, newest
first, read from the deliveries the matching already made (no second matching)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionDelivery, SubscriptionItem
from services.interaction.schemas.subscriptions import FeedItemOut, FeedOut
from services.interaction.service.subscriptions import subscriber_of
from services.interaction.vocab import SubscriptionStatus
from services.kernel.auth import Principal
from services.kernel.errors import ValidationFailed


def _cursor(raw: str | None) -> tuple[float, int] | None:
    """`<published_at>:<publication id>` of the last item seen: stable while new items arrive."""
    if raw is None:
        return None
    try:
        at, pid = raw.split(":", 1)
        return float(at), int(pid)
    except ValueError:
        raise ValidationFailed.field("cursor", "游标无效") from None


async def feed(
    session: AsyncSession, site: str, principal: Principal, size: int, cursor: str | None
) -> FeedOut:
    after = _cursor(cursor)
    mine = (
        select(col(SubscriptionDelivery.publication_id))
        .join(Subscription, col(Subscription.id) == col(SubscriptionDelivery.subscription_id))
        .where(
            col(Subscription.site) == site,
            col(Subscription.subscriber) == subscriber_of(principal),
            col(Subscription.status) == SubscriptionStatus.CONFIRMED,
        )
    )
    stmt = select(SubscriptionItem).where(col(SubscriptionItem.publication_id).in_(mine))
    if after is not None:
        at, pid = after
        stmt = stmt.where(
            or_(
                col(SubscriptionItem.published_at) < at,
                and_(col(SubscriptionItem.published_at) == at, col(SubscriptionItem.publication_id) < pid),
            )
        )
    stmt = stmt.order_by(
        col(SubscriptionItem.published_at).desc(), col(SubscriptionItem.publication_id).desc()
    ).limit(size + 1)
    rows = list((await session.execute(stmt)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    items = [FeedItemOut.model_validate(r, from_attributes=True) for r in rows]
    last = rows[-1] if more else None
    return FeedOut(items=items, next_cursor=f"{last.published_at!r}:{last.publication_id}" if last else None)
