"""Daily and weekly digests: a digest subscriber's matched items are collected (enqueue writes
their rows as `collected`), and off the hot path a worker assembles, once a period has closed and
the configured local hour (Asia/Shanghai) has come, ONE message per subscriber and period.

Idempotent by construction: assembling moves rows from `collected` to `digested` in the same
transaction that inserts the digest row, unique per (subscription, period), so a retry or a second
worker finds nothing left to assemble. Sending is the immediate sender's discipline: outside any
transaction, a relay that is down leaves the digest pending with a backoff, nothing is lost. A crash
between the relay's acceptance and the recording of it sends that digest again (at least once).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from services.interaction.models import (
    Subscription,
    SubscriptionDelivery,
    SubscriptionDigest,
    SubscriptionItem,
)
from services.interaction.service.delivery import Links
from services.interaction.service.sending import Pace
from services.interaction.service.templates import item_view, render, site_templates
from services.interaction.vocab import DeliveryStatus, Rhythm, SubscriptionStatus
from services.kernel.clock import SHANGHAI, epoch, from_epoch
from services.kernel.db import Database
from services.kernel.mail import MailError, MailSender

DIGESTS = (Rhythm.DAILY, Rhythm.WEEKLY)


def _start(rhythm: str, day: date) -> date:
    return day - timedelta(days=day.weekday()) if rhythm == Rhythm.WEEKLY else day


def _midnight(day: date) -> float:
    return datetime.combine(day, time(0), SHANGHAI).timestamp()


def closed_before(rhythm: str, now: float, hour: int) -> float:
    """The end of the latest period whose digest is due: its end plus `hour` hours has passed."""
    shifted = (from_epoch(now).astimezone(SHANGHAI) - timedelta(hours=hour)).date()
    return _midnight(_start(rhythm, shifted))


def period_of(rhythm: str, instant: float) -> str:
    day = _start(rhythm, from_epoch(instant).astimezone(SHANGHAI).date())
    if rhythm == Rhythm.WEEKLY:
        return f"{day.isoformat()}~{(day + timedelta(days=6)).isoformat()}"
    return day.isoformat()


async def assemble(db: Database, hour: int) -> int:
    """Turn every closed period's collected items into digest rows; returns how many were made."""
    now = epoch()
    cutoff = {r.value: closed_before(r, now, hour) for r in DIGESTS}
    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    col(SubscriptionDelivery.id),
                    col(SubscriptionDelivery.subscription_id),
                    col(Subscription.rhythm),
                    col(SubscriptionItem.published_at),
                )
                .join(Subscription, col(Subscription.id) == col(SubscriptionDelivery.subscription_id))
                .join(
                    SubscriptionItem,
                    col(SubscriptionItem.publication_id) == col(SubscriptionDelivery.publication_id),
                )
                .where(
                    col(SubscriptionDelivery.status) == DeliveryStatus.COLLECTED,
                    col(SubscriptionItem.published_at) < max(cutoff.values()),
                )
            )
        ).all()
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for delivery_id, subscription_id, rhythm, published_at in rows:
            # A subscriber who switched to immediate meanwhile still gets what was collected, daily.
            rhythm = rhythm if rhythm in cutoff else Rhythm.DAILY.value
            if published_at < cutoff[rhythm]:
                groups[(subscription_id, period_of(rhythm, published_at))].append(int(delivery_id or 0))
        if not groups:
            return 0
        existing = {
            (d.subscription_id, d.period): d
            for d in (
                await session.execute(
                    select(SubscriptionDigest).where(
                        col(SubscriptionDigest.subscription_id).in_(sorted({s for s, _ in groups}))
                    )
                )
            ).scalars()
        }
        made = 0
        for (subscription_id, period), ids in groups.items():
            digest = existing.get((subscription_id, period))
            if digest is None or digest.status != DeliveryStatus.PENDING:
                # An item that arrived after its period's digest went out gets a digest of its own.
                key = period if digest is None else f"{period}+{min(ids)}"
                digest = SubscriptionDigest(
                    subscription_id=subscription_id,
                    period=key,
                    status=DeliveryStatus.PENDING,
                    next_at=now,
                    created_at=now,
                )
                session.add(digest)
                await session.flush()
                made += 1
            await session.execute(
                update(SubscriptionDelivery)
                .where(
                    col(SubscriptionDelivery.id).in_(ids),
                    col(SubscriptionDelivery.status) == DeliveryStatus.COLLECTED,
                )
                .values(status=DeliveryStatus.DIGESTED, digest_id=digest.id)
            )
    return made


async def send_digests(db: Database, sender: MailSender, links: Links, pace: Pace) -> int:
    """Send one batch of due digests; returns how many were tried."""
    now = epoch()
    async with db.session() as session:
        due = (
            await session.execute(
                select(SubscriptionDigest, Subscription)
                .join(Subscription, col(Subscription.id) == col(SubscriptionDigest.subscription_id))
                .where(
                    col(SubscriptionDigest.status) == DeliveryStatus.PENDING,
                    col(SubscriptionDigest.next_at) <= now,
                )
                .order_by(col(SubscriptionDigest.id))
                .limit(pace.batch)
            )
        ).all()
        items: dict[int, list[SubscriptionItem]] = defaultdict(list)
        if due:
            ids = [d.id for d, _ in due]
            for digest_id, item in (
                await session.execute(
                    select(col(SubscriptionDelivery.digest_id), SubscriptionItem)
                    .join(
                        SubscriptionItem,
                        col(SubscriptionItem.publication_id) == col(SubscriptionDelivery.publication_id),
                    )
                    .where(col(SubscriptionDelivery.digest_id).in_(ids))
                    .order_by(col(SubscriptionItem.published_at), col(SubscriptionItem.publication_id))
                )
            ).all():
                items[int(digest_id or 0)].append(item)
        per_site = await site_templates(session, {s.site for _, s in due})
    outcomes: list[tuple[SubscriptionDigest, str | None]] = []
    for digest, sub in due:
        mine = items.get(digest.id or 0, [])
        if sub.status != SubscriptionStatus.CONFIRMED or not mine:
            outcomes.append((digest, "unsubscribed"))
            continue
        mail = render(
            email=sub.email,
            site=sub.site,
            site_name=mine[0].site_name,
            items=[item_view(i, links.item(i.site, i.url)) for i in mine],
            unsubscribe=links.unsubscribe(sub.site, sub.id or 0),
            templates=per_site.get(sub.site),
            period=digest.period.split("+")[0],
        )
        try:
            await sender.send(mail)
            outcomes.append((digest, None))
        except MailError as exc:
            outcomes.append((digest, str(exc)[:500]))
    done = epoch()
    async with db.session() as session:
        for digest, error in outcomes:
            values: dict[str, Any]
            rows: dict[str, Any] | None = None
            if error is None:
                values = {"status": DeliveryStatus.SENT, "sent_at": done, "attempts": digest.attempts + 1}
                rows = {"status": DeliveryStatus.SENT, "sent_at": done}
            elif error == "unsubscribed":
                values = rows = {"status": DeliveryStatus.CANCELLED}
            else:
                attempts = digest.attempts + 1
                values = {
                    "status": DeliveryStatus.DEAD
                    if attempts >= pace.max_attempts
                    else DeliveryStatus.PENDING,
                    "attempts": attempts,
                    "last_error": error,
                    "next_at": done + pace.backoff(attempts),
                }
            await session.execute(
                update(SubscriptionDigest).where(col(SubscriptionDigest.id) == digest.id).values(**values)
            )
            if rows is not None:
                await session.execute(
                    update(SubscriptionDelivery)
                    .where(col(SubscriptionDelivery.digest_id) == digest.id)
                    .values(**rows)
                )
    return len(due)
