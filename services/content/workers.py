"""Background work of the content service, started in-process by the app's lifespan.

Writers wake the syndication and push workers right after their commit (in-process), so a
subscriber's copy appears within a fraction of a second; the timeouts are only the fallback
for work written by another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, feed_tables
from services.content.service import push, review, sites, syndication
from services.content.service.common import Hub, now
from services.content.service.takedown import TOPIC as TAKEDOWN_TOPIC
from services.content.service.takedown import TakedownConsumer
from services.content.settings import ContentSettings
from services.kernel.context import ServiceContext, Worker

log = logging.getLogger("jiyue.content.workers")


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


async def _each(
    ctx: ServiceContext, ids: list[int], step: Callable[[AsyncSession, int], Awaitable[object]]
) -> None:
    for item_id in ids:
        try:
            async with ctx.db.session() as session:
                await step(session, item_id)
        except Exception:
            log.exception("content worker step failed for %s", item_id)


def syndication_worker(ctx: ServiceContext, hub: Hub) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        event = hub.event(syndication.WORKER)
        while not stop.is_set():
            event.clear()
            with contextlib.suppress(Exception):
                async with ctx.db.session() as session:
                    ids = await syndication.pending_task_ids(session)
                await _each(ctx, ids, syndication.run_task)
            await _idle(stop, event, 5.0)

    return run


def push_worker(ctx: ServiceContext, hub: Hub, settings: ContentSettings) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        event = hub.event(push.WORKER)
        client: httpx.AsyncClient | None = ctx.extras.get("push_client")
        if client is None:
            client = httpx.AsyncClient(timeout=settings.content_push_timeout_seconds)
            ctx.extras["push_client"] = client
        while not stop.is_set():
            event.clear()
            try:
                async with ctx.db.session() as session:
                    ids = await push.due_ids(session)

                async def attempt(session: AsyncSession, delivery_id: int) -> str:
                    return await push.attempt(
                        session,
                        delivery_id,
                        ctx.extras["push_client"],
                        max_attempts=settings.content_push_max_attempts,
                        backoff=settings.content_push_backoff_seconds,
                    )

                await _each(ctx, ids, attempt)
            except Exception:
                log.exception("push worker pass failed")
            await _idle(stop, event, min(1.0, settings.content_push_backoff_seconds))

    return run


async def scheduler_pass(ctx: ServiceContext) -> int:
    """Scheduled publish, expiry and the end of suspensions; returns how many changed."""
    moment = now()
    async with ctx.db.session() as session:
        due = list(
            (
                await session.execute(
                    select(col(Publication.id)).where(
                        col(Publication.status) == "approved", col(Publication.publish_at) <= moment
                    )
                )
            ).scalars()
        )
        expired = list(
            (
                await session.execute(
                    select(col(Publication.id)).where(
                        col(Publication.status) == "published", col(Publication.expire_at) <= moment
                    )
                )
            ).scalars()
        )
        resumes = await sites.due_resumes(session)

    async def publish(session: AsyncSession, pid: int) -> None:
        publication = await session.get(Publication, pid, with_for_update=True)
        if publication is not None and publication.status == "approved":
            await review.go_live(session, publication, None, {"opinion": "定时发布"})

    async def expire(session: AsyncSession, pid: int) -> None:
        publication = await session.get(Publication, pid, with_for_update=True)
        if publication is not None and publication.status == "published":
            await review.take_down(session, publication, None, {"opinion": "到期自动下线"})

    await _each(ctx, [i for i in due if i is not None], publish)
    await _each(ctx, [i for i in expired if i is not None], expire)
    for code in resumes:
        try:
            async with ctx.db.session() as session:
                await sites.change_status(session, code, "online", "system", reason="临时关停期满自动恢复")
        except Exception:
            log.exception("could not resume site %s", code)
    return len(due) + len(expired) + len(resumes)


def scheduler_worker(ctx: ServiceContext, settings: ContentSettings) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await scheduler_pass(ctx)
            except Exception:
                log.exception("content scheduler pass failed")
            await _idle(stop, None, settings.content_scheduler_seconds)

    return run


def cache_follower(ctx: ServiceContext, hub: Hub) -> Worker:
    """Invalidate sites changed by other replicas (their commits do not reach our hub)."""
    outbox = feed_tables.outbox

    async def run(stop: asyncio.Event) -> None:
        last = -1
        while not stop.is_set():
            try:
                async with ctx.db.session() as session:
                    if last < 0:
                        last = int(
                            (
                                await session.execute(select(func.coalesce(func.max(outbox.c.id), 0)))
                            ).scalar_one()
                        )
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
                    hub.cache.invalidate(*{r[1] for r in rows if r[1]})
            except Exception:
                log.debug("cache follower pass failed", exc_info=True)
            await _idle(stop, None, 1.0)

    return run
