"""The sender: claims due deliveries, sends them outside any transaction, records the outcome.

Several replicas may run it at once. A claim is one transaction that moves a batch of due rows
to "sending" with a lease: on PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so two
claimers never take the same row and never wait on each other; on SQLite the claim's first
statement is a write, so the transaction holds the single writer's lock while it picks. Outcomes are written only while the
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
from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionDelivery, SubscriptionItem
from services.interaction.service.delivery import Links, item_mail
from services.interaction.service.letter_notices import LETTERS_API, LetterNote, letter_mail, letter_notes
from services.interaction.service.templates import site_templates
from services.interaction.vocab import DeliveryStatus, SubscriptionStatus
from services.kernel.clock import epoch
from services.kernel.db import Database
from services.kernel.mail import Mail, MailError, MailSender

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
    site: str
    email: str
    status: str
    # What the message is about: a published item, or a new state of the subscriber's letter.
    item: SubscriptionItem | None
    letter: LetterNote | None = None


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
        ids = await _due(session, db.engine.dialect.name == "postgresql", now, pace.batch)
        if not ids:
            return lease, []
        rows = (
            await session.execute(
                update(D)
                .where(col(D.id).in_(ids))
                .values(status=DeliveryStatus.SENDING, claimed_until=lease, attempts=col(D.attempts) + 1)
                .returning(
                    col(D.id),
                    col(D.subscription_id),
                    col(D.publication_id),
                    col(D.attempts),
                    col(D.priority),
                    col(D.letter_id),
                    col(D.letter_status),
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
                        col(SubscriptionItem.publication_id).in_({r[2] for r in rows if r[2] is not None})
                    )
                )
            ).scalars()
        }
        notes = await letter_notes(session, {(r[5], r[6] or "") for r in rows if r[5] is not None})
        session.expunge_all()
    claimed = [
        Claimed(
            int(r[0] or 0),
            r[1],
            r[3],
            bool(r[4]),
            subs[r[1]].site,
            subs[r[1]].email,
            subs[r[1]].status,
            items.get(r[2]) if r[2] is not None else None,
            notes.get((r[5], r[6] or "")) if r[5] is not None else None,
        )
        for r in rows
    ]
    claimed.sort(key=lambda c: (not c.priority, c.id))
    return lease, claimed


async def _due(session: AsyncSession, postgres: bool, now: float, batch: int) -> list[int]:
    """Due rows' ids, lane by lane: important pending, stale claims, ordinary pending. Each is a
    range of the (status, priority, next_at) index read in its order, so a claim costs the batch
    it takes, not the backlog: one query ordering the whole queue scanned all of a 400,000-row
    backlog per claim and was the fan-out's largest cost after the SMTP handshakes."""
    lanes = [
        select(col(D.id))
        .where(col(D.status) == DeliveryStatus.PENDING, col(D.priority).is_(True), col(D.next_at) <= now)
        .order_by(col(D.next_at)),
        select(col(D.id))
        .where(col(D.status) == DeliveryStatus.SENDING, col(D.claimed_until) < now)
        .order_by(col(D.priority).desc()),
        select(col(D.id))
        .where(col(D.status) == DeliveryStatus.PENDING, col(D.priority).is_(False), col(D.next_at) <= now)
        .order_by(col(D.next_at)),
    ]
    ids: list[int] = []
    for lane in lanes:
        if len(ids) >= batch:
            break
        query = lane.limit(batch - len(ids))
        if postgres:
            query = query.with_for_update(skip_locked=True)
        ids.extend(int(i or 0) for i in (await session.execute(query)).scalars())
    return ids


async def send_due(
    db: Database, sender: MailSender, links: Links, pace: Pace, bucket: Bucket | None = None
) -> int:
    """Claim one batch, send it (`pace.concurrency` at a time, in lane order), record it;
    returns how many rows were claimed."""
    lease, rows = await claim(db, pace)
    if not rows:
        return 0
    async with db.session() as session:
        per_site = await site_templates(session, {r.site for r in rows if r.item is not None})
    outcomes: dict[int, MailError | str | None] = {}
    gate = asyncio.Semaphore(max(1, pace.concurrency))

    def mail(row: Claimed) -> Mail:
        if row.item is not None:
            return item_mail(row.email, row.subscription_id, row.item, links, per_site.get(row.item.site))
        assert row.letter is not None
        return letter_mail(
            row.email,
            row.letter,
            links.item(row.site, f"{LETTERS_API}/{row.letter.id}"),
            links.unsubscribe(row.site, row.subscription_id),
        )

    async def one(row: Claimed) -> None:
        # Left, or the letter is gone (nothing to tell).
        if row.status != SubscriptionStatus.CONFIRMED or (row.item is None and row.letter is None):
            outcomes[row.id] = "cancelled"
            return
        async with gate:
            if bucket is not None:
                await bucket.take()
            try:
                await sender.send(mail(row))
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
