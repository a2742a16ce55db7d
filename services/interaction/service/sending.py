"""The sender: claims due deliveries, sends them outside any transaction, records the outcome.

Several replicas may run it at once. A claim is one statement that moves a batch of due rows
to "sending" with a lease: on PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so two
claimers never take the same row and never wait on each other; SQLite has a single writer, so
the same UPDATE … RETURNING is atomic there by itself. Outcomes are written only while the
claim is still ours (same lease), so a sender that was too slow cannot overwrite a reclaim.
A sender that dies mid-send leaves its rows "sending"; once the lease runs out they are due
again. The attempt is counted at claim time, so a row that keeps killing its sender dies too.

Failures: a 5xx reply is permanent — the row is dead at once and the address's bounce count
grows (suspended after `max_bounces` in a row); a 4xx, a refused connection or a timeout is
retried with an exponential backoff, dead after `max_attempts`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionDelivery, SubscriptionItem
from services.interaction.service.delivery import Links, item_mail
from services.interaction.service.templates import site_templates
from services.interaction.vocab import DeliveryStatus, SubscriptionStatus
from services.kernel.clock import epoch
from services.kernel.db import Database
from services.kernel.mail import MailError, MailSender

QUEUE_DEPTH = Gauge("jiyue_subscription_queue_depth", "Deliveries waiting or being sent, per lane", ["lane"])
QUEUE_AGE = Gauge(
    "jiyue_subscription_queue_oldest_seconds", "Age of the oldest waiting delivery, per lane", ["lane"]
)
LANES = ("important", "ordinary")
OPEN = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
D = SubscriptionDelivery


@dataclass(frozen=True)
class Pace:
    batch: int
    max_attempts: int
    retry_base: float
    retry_max: float
    lease: float = 300.0
    max_bounces: int = 3
    concurrency: int = 1

    def backoff(self, attempts: int) -> float:
        return float(min(self.retry_max, self.retry_base * 2 ** (attempts - 1)))


class Bucket:
    """A token bucket for one channel (messages per second; 0: unlimited). It lives in this
    process, so N replicas send at most N times the rate — set it per replica."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.tokens = self.burst
        self.stamp = epoch()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            while True:
                now = epoch()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


@dataclass(frozen=True)
class Claimed:
    id: int
    subscription_id: int
    attempts: int
    priority: bool
    email: str
    status: str
    item: SubscriptionItem


async def claim(db: Database, pace: Pace) -> tuple[float, list[Claimed]]:
    """Take up to `pace.batch` due rows, important first; returns the lease and the rows."""
    now = epoch()
    lease = now + pace.lease
    async with db.session() as session:
        # A stale claim that already used its last attempt is not tried again.
        await session.execute(
            update(D)
            .where(col(D.status) == DeliveryStatus.SENDING, col(D.claimed_until) < now)
            .where(col(D.attempts) >= pace.max_attempts)
            .values(status=DeliveryStatus.DEAD, last_error="sender lost while sending", claimed_until=None)
        )
        due = (
            select(col(D.id))
            .where(
                or_(
                    and_(col(D.status) == DeliveryStatus.PENDING, col(D.next_at) <= now),
                    and_(col(D.status) == DeliveryStatus.SENDING, col(D.claimed_until) < now),
                )
            )
            .order_by(col(D.priority).desc(), col(D.id))
            .limit(pace.batch)
        )
        if db.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = (
            await session.execute(
                update(D)
                .where(col(D.id).in_(due.scalar_subquery()))
                .values(status=DeliveryStatus.SENDING, claimed_until=lease, attempts=col(D.attempts) + 1)
                .returning(
                    col(D.id), col(D.subscription_id), col(D.publication_id), col(D.attempts), col(D.priority)
                )
            )
        ).all()
        if not rows:
            return lease, []
        subs = {
            s.id: s
            for s in (
                await session.execute(
                    select(Subscription).where(col(Subscription.id).in_({r[1] for r in rows}))
                )
            ).scalars()
        }
        items = {
            i.publication_id: i
            for i in (
                await session.execute(
                    select(SubscriptionItem).where(
                        col(SubscriptionItem.publication_id).in_({r[2] for r in rows})
                    )
                )
            ).scalars()
        }
        session.expunge_all()
    claimed = [
        Claimed(int(r[0] or 0), r[1], r[3], bool(r[4]), subs[r[1]].email, subs[r[1]].status, items[r[2]])
        for r in rows
    ]
    claimed.sort(key=lambda c: (not c.priority, c.id))
    return lease, claimed


async def send_due(
    db: Database, sender: MailSender, links: Links, pace: Pace, bucket: Bucket | None = None
) -> int:
    """Claim one batch, send it (`pace.concurrency` at a time, in lane order), record it;
    returns how many rows were claimed."""
    lease, rows = await claim(db, pace)
    if not rows:
        return 0
    async with db.session() as session:
        per_site = await site_templates(session, {r.item.site for r in rows})
    outcomes: dict[int, MailError | str | None] = {}
    gate = asyncio.Semaphore(max(1, pace.concurrency))

    async def one(row: Claimed) -> None:
        if row.status != SubscriptionStatus.CONFIRMED:
            outcomes[row.id] = "cancelled"
            return
        async with gate:
            if bucket is not None:
                await bucket.take()
            try:
                await sender.send(
                    item_mail(row.email, row.subscription_id, row.item, links, per_site.get(row.item.site))
                )
                outcomes[row.id] = None
            except MailError as exc:
                outcomes[row.id] = exc

    await asyncio.gather(*(one(r) for r in rows))
    async with db.session() as session:
        await _record(session, rows, outcomes, lease, pace)
    return len(rows)


async def _record(
    session: AsyncSession,
    rows: Sequence[Claimed],
    outcomes: dict[int, MailError | str | None],
    lease: float,
    pace: Pace,
) -> None:
    done = epoch()
    ours = and_(col(D.status) == DeliveryStatus.SENDING, col(D.claimed_until) == lease)
    sent = [r for r in rows if outcomes.get(r.id, "") is None]
    cancelled = [r.id for r in rows if outcomes.get(r.id) == "cancelled"]
    if sent:
        await session.execute(
            update(D)
            .where(col(D.id).in_([r.id for r in sent]), ours)
            .values(status=DeliveryStatus.SENT, sent_at=done, claimed_until=None)
        )
        await session.execute(
            update(Subscription)
            .where(col(Subscription.id).in_({r.subscription_id for r in sent}), col(Subscription.bounces) > 0)
            .values(bounces=0)
        )
    if cancelled:
        await session.execute(
            update(D)
            .where(col(D.id).in_(cancelled), ours)
            .values(status=DeliveryStatus.CANCELLED, claimed_until=None)
        )
    for row in rows:
        error = outcomes.get(row.id)
        if not isinstance(error, MailError):
            continue
        values: dict[str, Any] = {"last_error": str(error)[:500], "claimed_until": None}
        if error.permanent:
            values["status"] = DeliveryStatus.DEAD
            await _bounced(session, row.subscription_id, pace)
        elif row.attempts >= pace.max_attempts:
            values["status"] = DeliveryStatus.DEAD
        else:
            values |= {"status": DeliveryStatus.PENDING, "next_at": done + pace.backoff(row.attempts)}
        await session.execute(update(D).where(col(D.id) == row.id, ours).values(**values))


async def _bounced(session: AsyncSession, subscription_id: int, pace: Pace) -> None:
    await session.execute(
        update(Subscription)
        .where(col(Subscription.id) == subscription_id)
        .values(bounces=col(Subscription.bounces) + 1)
    )
    await session.execute(
        update(Subscription)
        .where(
            col(Subscription.id) == subscription_id,
            col(Subscription.status) == SubscriptionStatus.CONFIRMED,
            col(Subscription.bounces) >= pace.max_bounces,
        )
        .values(status=SubscriptionStatus.SUSPENDED, ended_at=epoch())
    )


async def queue_stats(db: Database) -> dict[str, tuple[int, float]]:
    """Per lane: how many deliveries are open and how old the oldest is (seconds); sets the
    gauges the service's /metrics serves."""
    now = epoch()
    async with db.session() as session:
        rows = (
            await session.execute(
                select(col(D.priority), func.count(), func.min(col(D.created_at)))
                .where(col(D.status).in_(OPEN))
                .group_by(col(D.priority))
            )
        ).all()
    stats = {lane: (0, 0.0) for lane in LANES}
    for priority, count, oldest in rows:
        stats[LANES[0] if priority else LANES[1]] = (int(count), max(0.0, now - float(oldest)))
    for lane, (depth, age) in stats.items():
        QUEUE_DEPTH.labels(lane=lane).set(depth)
        QUEUE_AGE.labels(lane=lane).set(age)
    return stats
