"""Background work of the content service, started in-process by the app's lifespan.

Writers wake the syndication and push workers right after their commit (in-process), so a
subscriber's copy appears within a fraction of a second; the timeouts are only the fallback
for work written by another replica.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content import flows
from services.content.loops import Pusher, worker_loop
from services.content.models import Publication, feed_tables
from services.content.service import push, sites, syndication
from services.content.service.common import ContentState
from services.content.service.deadletters import DEAD_LETTERS
from services.content.settings import ContentSettings
from services.content.vocab import (
    DeadLetterKind,
    DeliveryState,
    PublicationState,
    SiteStatus,
    TaskState,
    Worker,
)
from services.kernel.clock import now
from services.kernel.consumer import FeedConsumer
from services.kernel.context import ServiceContext
from services.kernel.context import Worker as WorkerFn
from services.kernel.feed import FeedEvent

log = logging.getLogger("jiyue.content.workers")


TAKEDOWN_TOPIC = "resource.takendown"


class TakedownConsumer(FeedConsumer):
    """Follows resources' feed for takedowns; idempotent (a replay finds nothing left to withdraw).

    The resource's takedown withdraws its publications through the ordinary path, so search drops
    the hit on `publication.withdrawn` and the delivery caches let go of the item on commit.
    """

    name = "resources-takedowns"

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic == TAKEDOWN_TOPIC:
            await flows.withdraw_uses(session, int(event.key), str(event.payload.get("reason", "")))


def takedown_consumer(ctx: ServiceContext, settings: ContentSettings) -> TakedownConsumer:
    """Withdraws the publications of resources a platform administrator took down."""
    return TakedownConsumer(
        ctx.db,
        feed_tables,
        ctx.feed_fetcher("resources", topics=[TAKEDOWN_TOPIC]),
        poll_seconds=settings.feed_poll_seconds,
        lease_seconds=settings.feed_lease_seconds,
    )


async def _each(
    ctx: ServiceContext, ids: list[int], step: Callable[[AsyncSession, int], Awaitable[object]]
) -> None:
    for item_id in ids:
        try:
            async with ctx.db.session() as session:
                await step(session, item_id)
        except Exception:
            log.exception("content worker step failed for %s", item_id)


def _deadline(settings: ContentSettings) -> timedelta:
    return timedelta(hours=settings.content_syndication_hours)


SYNDICATION_BATCH = 50


async def syndication_pass(ctx: ServiceContext, settings: ContentSettings) -> int:
    """Run the due 转载 tasks once; a failing one backs off (then dies) so it cannot block the rest."""
    deadline = _deadline(settings)
    async with ctx.db.session() as session:
        ids = await syndication.pending_task_ids(session, SYNDICATION_BATCH)
    for task_id in ids:
        try:
            async with ctx.db.session() as session:
                await flows.run_task(session, task_id, deadline=deadline)
        except Exception as exc:
            log.warning("syndication task %s failed", task_id, exc_info=True)
            error = getattr(exc, "detail", None) or type(exc).__name__
            async with ctx.db.session() as session:
                state = await syndication.record_failure(
                    session,
                    task_id,
                    str(error),
                    max_attempts=settings.content_syndication_max_attempts,
                    backoff=settings.content_syndication_backoff_seconds,
                )
            if state == TaskState.DEAD:
                DEAD_LETTERS.labels(DeadLetterKind.SYNDICATION).inc()
    return len(ids)


def syndication_worker(ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> WorkerFn:
    async def step() -> bool:
        return await syndication_pass(ctx, settings) == SYNDICATION_BATCH

    return worker_loop(Worker.SYNDICATION, step, 5.0, state.event(Worker.SYNDICATION))


def push_worker(ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> WorkerFn:
    """Webhook deliveries, on the push loop new-media accounts share."""
    pusher = Pusher(
        ctx,
        state,
        settings,
        claim_due=push.claim_due,
        record=push.record,
        dead=DeliveryState.DEAD,
        kind=DeadLetterKind.PUSH,
    )
    return pusher.worker(Worker.PUSH)


async def scheduler_pass(ctx: ServiceContext) -> int:
    """Scheduled publish, expiry and the end of suspensions; returns how many changed."""
    settings = ctx.settings
    if not isinstance(settings, ContentSettings):
        raise TypeError("the content scheduler runs with ContentSettings")
    deadline = _deadline(settings)
    moment = now()
    async with ctx.db.session() as session:
        due = (
            await session.execute(
                select(col(Publication.id)).where(
                    col(Publication.status) == PublicationState.APPROVED,
                    col(Publication.publish_at) <= moment,
                )
            )
        ).scalars()
        due_ids = [i for i in due if i is not None]
        expired = (
            await session.execute(
                select(col(Publication.id)).where(
                    col(Publication.status) == PublicationState.PUBLISHED,
                    col(Publication.expire_at) <= moment,
                )
            )
        ).scalars()
        expired_ids = [i for i in expired if i is not None]
        resumes = await sites.due_resumes(session)

    async def publish(session: AsyncSession, pid: int) -> None:
        await flows.publish_due(session, pid, deadline=deadline)

    await _each(ctx, due_ids, publish)
    await _each(ctx, expired_ids, flows.expire)
    for code in resumes:
        try:
            async with ctx.db.session() as session:
                await sites.change_status(
                    session, code, SiteStatus.ONLINE, "system", reason="临时关停期满自动恢复"
                )
        except Exception:
            log.exception("could not resume site %s", code)
    return len(due_ids) + len(expired_ids) + len(resumes)


def scheduler_worker(ctx: ServiceContext, settings: ContentSettings) -> WorkerFn:
    async def step() -> bool:
        await scheduler_pass(ctx)
        return False

    return worker_loop("scheduler", step, settings.content_scheduler_seconds)


def cache_follower(ctx: ServiceContext, state: ContentState) -> WorkerFn:
    """Invalidate sites changed by other replicas (their commits do not reach our state)."""
    outbox = feed_tables.outbox
    last = -1

    async def step() -> bool:
        nonlocal last
        async with ctx.db.session() as session:
            if last < 0:
                head = await session.execute(select(func.coalesce(func.max(outbox.c.id), 0)))
                last = int(head.scalar_one())
            rows = (
                await session.execute(
                    select(outbox.c.id, outbox.c.site_id)
                    .where(outbox.c.id > last)
                    .order_by(outbox.c.id)
                    .limit(1000)
                )
            ).all()
        if rows:
            last = int(rows[-1][0])
            state.cache.invalidate(*{r[1] for r in rows if r[1]})
        return False

    return worker_loop("cache follower", step, 1.0)
