"""Background work of the content service, started in-process by the app's lifespan.

Writers wake the syndication and push workers right after their commit (in-process), so a
subscriber's copy appears within a fraction of a second; the timeouts are only the fallback
for work written by another replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content import flows
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


async def _idle(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def _loop(
    name: str, step: Callable[[], Awaitable[bool]], seconds: float, wake: asyncio.Event | None = None
) -> WorkerFn:
    """Run `step` until stopped; idle `seconds` (or until woken) unless it says more is waiting."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            more = False
            try:
                more = await step()
            except Exception:
                log.exception("content %s pass failed", name)
            if not more:
                await _idle(stop, wake, seconds)

    return run


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

    return _loop(Worker.SYNDICATION, step, 5.0, state.event(Worker.SYNDICATION))


def push_worker(ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> WorkerFn:
    """Tries run concurrently outside transactions, at most `content_push_per_channel` per channel."""
    in_flight: dict[int, int] = {}
    tasks: set[asyncio.Task[None]] = set()
    lease = timedelta(seconds=settings.content_push_timeout_seconds + 5)

    async def deliver(claim: push.Claim) -> None:
        try:
            outcome = await push.send(state.push_client, claim)
            async with ctx.db.session() as session:
                status = await push.record(
                    session,
                    claim,
                    outcome,
                    max_attempts=settings.content_push_max_attempts,
                    backoff=settings.content_push_backoff_seconds,
                )
            if status == DeliveryState.DEAD:
                DEAD_LETTERS.labels(DeadLetterKind.PUSH).inc()
        except Exception:
            log.exception("push delivery %s failed", claim.delivery_id)
        finally:
            in_flight[claim.channel_id] -= 1

    def free_slots(channel_id: int) -> int:
        return settings.content_push_per_channel - in_flight.get(channel_id, 0)

    async def step() -> bool:
        async with ctx.db.session() as session:
            claims = await push.claim_due(session, free_slots, lease)
        for claim in claims:
            in_flight[claim.channel_id] = in_flight.get(claim.channel_id, 0) + 1
            task = asyncio.create_task(deliver(claim))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return False

    loop = _loop(Worker.PUSH, step, min(1.0, settings.content_push_backoff_seconds), state.event(Worker.PUSH))

    async def run(stop: asyncio.Event) -> None:
        try:
            await loop(stop)
        finally:
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return run


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

    return _loop("scheduler", step, settings.content_scheduler_seconds)


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

    return _loop("cache follower", step, 1.0)
