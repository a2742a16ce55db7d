"""Dead deliveries (given up after their attempts, or refused permanently) for the site's staff:
listed with the reason, and put back in the queue by hand once the cause is fixed."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionDelivery, SubscriptionItem
from services.interaction.schemas.deliveries import DeadDeliveryOut, DeadDeliveryPage
from services.interaction.vocab import DeliveryStatus, SubscriptionStatus
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, NotFound
from services.kernel.pagination import PageParams

D = SubscriptionDelivery


def _dead_of(site: str):  # type: ignore[no-untyped-def]
    return (
        select(D, col(Subscription.email), col(SubscriptionItem.title))
        .join(Subscription, col(Subscription.id) == col(D.subscription_id))
        .join(SubscriptionItem, col(SubscriptionItem.publication_id) == col(D.publication_id))
        .where(col(Subscription.site) == site, col(D.status) == DeliveryStatus.DEAD)
    )


def _out(row: SubscriptionDelivery, email: str, title: str) -> DeadDeliveryOut:
    return DeadDeliveryOut(
        id=row.id or 0,
        subscription_id=row.subscription_id,
        publication_id=row.publication_id,
        email=email,
        title=title,
        important=row.priority,
        attempts=row.attempts,
        last_error=row.last_error or "",
        created_at=row.created_at,
    )


async def list_dead(session: AsyncSession, site: str, page: PageParams) -> DeadDeliveryPage:
    stmt = _dead_of(site)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(col(D.id).desc()).offset(page.offset).limit(page.size))).all()
    return DeadDeliveryPage(
        total=int(total), page=page.page, size=page.size, items=[_out(r, e, t) for r, e, t in rows]
    )


async def retry(session: AsyncSession, site: str, delivery_id: int) -> DeadDeliveryOut:
    """Back to pending with fresh attempts; a suspended address is confirmed again (staff
    decided the bounce is over), an unsubscribed one is not mailed."""
    found = (await session.execute(_dead_of(site).where(col(D.id) == delivery_id))).first()
    if found is None:
        raise NotFound(f"失败投递 {delivery_id} 不存在")
    row, email, title = found
    sub = await session.get(Subscription, row.subscription_id)
    if sub is None or sub.status == SubscriptionStatus.UNSUBSCRIBED:
        raise Conflict("订阅者已退订，不能重发")
    if sub.status == SubscriptionStatus.SUSPENDED:
        sub.status, sub.bounces, sub.ended_at = SubscriptionStatus.CONFIRMED, 0, None
    await session.execute(
        update(D)
        .where(col(D.id) == delivery_id, col(D.status) == DeliveryStatus.DEAD)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_at=epoch(), claimed_until=None)
    )
    out = _out(row, email, title)
    return out.model_copy(update={"attempts": 0})
