"""Dead letters: push deliveries, new-media push tasks and 转载 tasks that failed every allowed
try, for an operator."""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.content.models import NewMediaTask, PushDelivery, SyndicationTask
from services.content.schemas import DeadLetterOut
from services.content.service import newmedia, push, syndication
from services.content.vocab import DeadLetterKind, NewMediaTaskState

DEAD_LETTERS = Counter("jiyue_content_dead_letters", "Work that failed every allowed try", ["kind"])
RETRIED = Counter("jiyue_content_dead_letters_retried", "Dead letters an operator sent back", ["kind"])


def delivery_letter(d: PushDelivery) -> DeadLetterOut:
    last = d.log[-1] if d.log else {}
    return DeadLetterOut(
        kind=DeadLetterKind.PUSH,
        id=d.id or 0,
        site=d.site_id,
        publication_id=d.publication_id,
        channel_id=d.channel_id,
        subscription_id=None,
        attempts=d.attempts,
        last_error=str(last.get("error") or (f"HTTP {last['status']}" if "status" in last else "")),
        created_at=d.created_at,
    )


def task_letter(t: SyndicationTask) -> DeadLetterOut:
    return DeadLetterOut(
        kind=DeadLetterKind.SYNDICATION,
        id=t.id or 0,
        site=t.subscriber_site,
        publication_id=t.source_publication_id,
        channel_id=None,
        subscription_id=t.subscription_id,
        attempts=t.attempts,
        last_error=t.last_error,
        created_at=t.created_at,
    )


def media_letter(t: NewMediaTask) -> DeadLetterOut:
    return DeadLetterOut(
        kind=DeadLetterKind.NEW_MEDIA,
        id=t.id or 0,
        site=t.site_id,
        publication_id=t.publication_id,
        channel_id=t.account_id,
        subscription_id=None,
        attempts=t.attempts,
        last_error=t.last_error,
        created_at=t.created_at,
    )


async def list_dead(session: AsyncSession, site: str) -> list[DeadLetterOut]:
    letters = [delivery_letter(d) for d in await push.dead_deliveries(session, site)]
    letters += [media_letter(t) for t in await newmedia.list_tasks(session, site, NewMediaTaskState.DEAD)]
    letters += [task_letter(t) for t in await syndication.dead_tasks(session, site)]
    return letters


async def retry(session: AsyncSession, site: str, kind: DeadLetterKind, item_id: int) -> DeadLetterOut:
    """Send a dead letter back to its worker with a fresh count of tries."""
    if kind == DeadLetterKind.PUSH:
        delivery = await push.retry_delivery(session, site, item_id)
        RETRIED.labels(kind).inc()
        return delivery_letter(delivery)
    if kind == DeadLetterKind.NEW_MEDIA:
        media = await newmedia.retry_task(session, site, item_id)
        RETRIED.labels(kind).inc()
        return media_letter(media)
    task = await syndication.retry_task(session, site, item_id)
    RETRIED.labels(kind).inc()
    return task_letter(task)
