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
import time
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
from services.kernel.clock import now, to_wire
from services.kernel.errors import NotFound, ValidationFailed
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


async def create_channel(
    session: AsyncSession, site: str, body: ChannelCreate, allow: tuple[IPNetwork, ...] = ()
) -> Channel:
    parts = urlsplit(body.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed.field("url", "推送地址须为 http(s) URL")
    # Names are checked when they are dialled (their addresses can change); literals right away.
    if _literal_refused(parts.hostname, allow):
        raise ValidationFailed.field("url", "推送地址不被允许：须为公网地址")
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


async def enqueue(session: AsyncSession, publication: Publication, event: FeedState) -> int:
    channels = (
        await session.execute(
            select(Channel).where(col(Channel.site_id) == publication.site_id, col(Channel.active).is_(True))
        )
    ).scalars()
    site_name, column_name = await names_of(session, publication)
    payload = {
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


async def due_ids(session: AsyncSession, limit: int = 20) -> list[int]:
    stmt = (
        select(col(PushDelivery.id))
        .where(col(PushDelivery.status) == DeliveryState.PENDING, col(PushDelivery.next_attempt_at) <= now())
        .order_by(col(PushDelivery.id))
        .limit(limit)
    )
    return [i for i in (await session.execute(stmt)).scalars() if i is not None]


async def attempt(
    session: AsyncSession, delivery_id: int, client: OutboundClient, *, max_attempts: int, backoff: float
) -> str:
    """One try at one delivery; the outcome goes to its log. Returns the new status."""
    delivery = await session.get(PushDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status != DeliveryState.PENDING:
        return "skipped"
    channel = await session.get(Channel, delivery.channel_id)
    if channel is None or not channel.active:
        delivery.status = DeliveryState.FAILED
        delivery.log = [*delivery.log, {"at": to_wire(now()), "error": "渠道已停用"}]
        return delivery.status
    body = orjson.dumps(delivery.payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(channel.secret, timestamp, body),
        "X-Jiyue-Delivery": str(delivery.id),
    }
    entry: dict[str, Any] = {"at": to_wire(now()), "attempt": delivery.attempts + 1}
    refused = False
    try:
        resp = await client.post(channel.url, content=body, headers=headers)
        entry["status"] = resp.status_code
        ok = 200 <= resp.status_code < 300
    except OutboundError as exc:
        # The tenant reads this log: the generic text only (details are in the service log).
        entry["error"] = exc.public
        refused = isinstance(exc, OutboundRefused)
        ok = False
    delivery.attempts += 1
    delivery.log = [*delivery.log, entry]
    if ok:
        delivery.status = DeliveryState.DELIVERED
        delivery.delivered_at = now()
    elif refused or delivery.attempts >= max_attempts:
        delivery.status = DeliveryState.FAILED
    else:
        delivery.next_attempt_at = now() + timedelta(seconds=backoff * 2 ** (delivery.attempts - 1))
    return delivery.status
