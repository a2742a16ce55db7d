"""New-media push (article 42): signed webhooks to a site's channels, retried, logged.

The receiver checks `X-Jiyue-Signature: sha256=<hex>` = HMAC-SHA256(secret, "<timestamp>." +
body) with the timestamp from `X-Jiyue-Timestamp`, and rejects stale timestamps, so a captured
request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Channel, Publication, PushDelivery
from services.content.schemas import ChannelCreate, ChannelCreatedOut, ChannelOut, DeliveryOut
from services.content.service.common import wake
from services.content.service.publications import names_of
from services.content.vocab import DeliveryState, FeedState, Worker
from services.kernel import clock
from services.kernel.clock import now, to_wire
from services.kernel.errors import Conflict, NotFound, ValidationFailed
from services.kernel.outbound import IPNetwork, OutboundClient, OutboundError, OutboundRefused, refusal

SIGNATURE_HEADER = "X-Jiyue-Signature"
TIMESTAMP_HEADER = "X-Jiyue-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def channel_out(channel: Channel) -> ChannelOut:
    return ChannelOut(
        id=channel.id or 0,
        site=channel.site_id,
        name=channel.name,
        url=channel.url,
        active=channel.active,
        created_at=channel.created_at,
    )


def channel_created_out(channel: Channel) -> ChannelCreatedOut:
    return ChannelCreatedOut(**channel_out(channel).model_dump(), secret=channel.secret)


def delivery_out(d: PushDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id or 0,
        channel_id=d.channel_id,
        publication_id=d.publication_id,
        event=d.event,
        status=DeliveryState(d.status),
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
        log=d.log,
    )


def _literal_refused(host: str, allow: tuple[IPNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return refusal(address, allow) is not None


def check_url(url: str, allow: tuple[IPNetwork, ...], field: str = "url") -> None:
    """A tenant-aimed push address: http(s), and no literal address the guarded client refuses."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationFailed.field(field, "推送地址须为 http(s) URL")
    # Names are checked when they are dialled (their addresses can change); literals right away.
    if _literal_refused(host, allow):
        raise ValidationFailed.field(field, "推送地址不被允许：须为公网地址")


async def create_channel(
    session: AsyncSession, site: str, body: ChannelCreate, allow: tuple[IPNetwork, ...] = ()
) -> Channel:
    check_url(body.url, allow)
    channel = Channel(
        site_id=site,
        name=body.name,
        url=body.url,
        secret=body.secret or secrets.token_urlsafe(32),
        active=True,
        created_at=now(),
    )
    session.add(channel)
    await session.flush()
    return channel


async def list_channels(session: AsyncSession, site: str) -> list[Channel]:
    return list(
        (
            await session.execute(
                select(Channel).where(col(Channel.site_id) == site).order_by(col(Channel.id))
            )
        ).scalars()
    )


async def deactivate_channel(session: AsyncSession, site: str, channel_id: int) -> None:
    channel = await session.get(Channel, channel_id)
    if channel is None or channel.site_id != site:
        raise NotFound(f"推送渠道 {channel_id} 不存在")
    channel.active = False


async def list_deliveries(session: AsyncSession, site: str, limit: int = 100) -> list[PushDelivery]:
    stmt = (
        select(PushDelivery)
        .where(col(PushDelivery.site_id) == site)
        .order_by(col(PushDelivery.id).desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def item_payload(session: AsyncSession, publication: Publication, event: str) -> dict[str, Any]:
    """What a receiver is told of an item, on every push channel (webhooks, new-media accounts)."""
    site_name, column_name = await names_of(session, publication)
    return {
        "event": event,
        "publication_id": publication.id,
        "site": publication.site_id,
        "site_name": site_name,
        "column": column_name,
        "title": publication.title,
        "summary": publication.body_text[:200],
        "published_at": to_wire(publication.published_at) if publication.published_at else None,
        "url": f"/api/content/v1/items/{publication.id}",
    }


async def enqueue(session: AsyncSession, publication: Publication, event: FeedState) -> int:
    channels = (
        await session.execute(
            select(Channel).where(col(Channel.site_id) == publication.site_id, col(Channel.active).is_(True))
        )
    ).scalars()
    payload = await item_payload(session, publication, event)
    count = 0
    for channel in channels:
        session.add(
            PushDelivery(
                channel_id=channel.id or 0,
                site_id=publication.site_id,
                publication_id=publication.id or 0,
                event=event,
                payload=payload,
                next_attempt_at=now(),
                created_at=now(),
            )
        )
        count += 1
    if count:
        wake(session, Worker.PUSH)
    return count


@dataclass(frozen=True)
class Claim:
    """A delivery taken for one try, with what the try needs (read before the transaction ends)."""

    delivery_id: int
    channel_id: int
    url: str
    secret: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    status: int | None = None
    error: str | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def claim_due(
    session: AsyncSession, free_slots: Callable[[int], int], lease: timedelta, limit: int = 200
) -> list[Claim]:
    """Take due deliveries, at most `free_slots(channel)` per channel, leased for `lease`.

    The lease (a later next_attempt_at) keeps other passes and replicas off a delivery while it
    is in flight outside any transaction; a try that never records its outcome is retried then.
    """
    stmt = (
        select(PushDelivery)
        .where(col(PushDelivery.status) == DeliveryState.PENDING, col(PushDelivery.next_attempt_at) <= now())
        .order_by(col(PushDelivery.next_attempt_at), col(PushDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    channel_ids = {d.channel_id for d in rows}
    channels = {
        c.id: c
        for c in (await session.execute(select(Channel).where(col(Channel.id).in_(channel_ids)))).scalars()
    }
    taken: dict[int, int] = {}
    claims: list[Claim] = []
    for delivery in rows:
        channel = channels.get(delivery.channel_id)
        if channel is None or not channel.active:
            delivery.status = DeliveryState.FAILED
            delivery.log = [*delivery.log, {"at": to_wire(now()), "error": "渠道已停用"}]
            continue
        if taken.get(delivery.channel_id, 0) >= free_slots(delivery.channel_id):
            continue
        taken[delivery.channel_id] = taken.get(delivery.channel_id, 0) + 1
        delivery.next_attempt_at = now() + lease
        claims.append(
            Claim(delivery.id or 0, delivery.channel_id, channel.url, channel.secret, delivery.payload)
        )
    return claims


async def send(client: OutboundClient, claim: Claim) -> Outcome:
    """One signed POST, outside any database transaction."""
    body = orjson.dumps(claim.payload)
    timestamp = str(int(clock.epoch()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(claim.secret, timestamp, body),
        "X-Jiyue-Delivery": str(claim.delivery_id),
    }
    try:
        resp = await client.post(claim.url, content=body, headers=headers)
    except OutboundError as exc:
        # The tenant reads this log: the generic text only (details are in the service log).
        return Outcome(error=exc.public, refused=isinstance(exc, OutboundRefused))
    return Outcome(status=resp.status_code)


async def record(
    session: AsyncSession, claim: Claim, outcome: Outcome, *, max_attempts: int, backoff: float
) -> DeliveryState | None:
    """Write a try's outcome; back off exponentially, or make it a dead letter after the last try."""
    delivery = await session.get(PushDelivery, claim.delivery_id, with_for_update=True)
    if delivery is None or delivery.status != DeliveryState.PENDING:
        return None
    entry: dict[str, Any] = {"at": to_wire(now()), "attempt": delivery.attempts + 1}
    if outcome.status is not None:
        entry["status"] = outcome.status
    if outcome.error is not None:
        entry["error"] = outcome.error
    delivery.attempts += 1
    delivery.log = [*delivery.log, entry]
    if outcome.ok:
        delivery.status = DeliveryState.DELIVERED
        delivery.delivered_at = now()
    elif outcome.refused:
        delivery.status = DeliveryState.FAILED
    elif delivery.attempts >= max_attempts:
        delivery.status = DeliveryState.DEAD
    else:
        delivery.next_attempt_at = now() + timedelta(seconds=backoff * 2 ** (delivery.attempts - 1))
    return DeliveryState(delivery.status)


async def dead_deliveries(session: AsyncSession, site: str) -> list[PushDelivery]:
    stmt = (
        select(PushDelivery)
        .where(col(PushDelivery.site_id) == site, col(PushDelivery.status) == DeliveryState.DEAD)
        .order_by(col(PushDelivery.id))
    )
    return list((await session.execute(stmt)).scalars())


async def retry_delivery(session: AsyncSession, site: str, delivery_id: int) -> PushDelivery:
    delivery = await session.get(PushDelivery, delivery_id)
    if delivery is None or delivery.site_id != site:
        raise NotFound(f"推送记录 {delivery_id} 不存在")
    if delivery.status != DeliveryState.DEAD:
        raise Conflict(f"推送记录 {delivery_id} 当前状态为 {delivery.status}，只有失败的推送可以重试")
    delivery.status = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now()
    wake(session, Worker.PUSH)
    return delivery
