"""转载 from a peer platform (the province): its items arrive from federation, which follows the
peer's public feed; only this platform's subscriptions to the peer's columns turn them into tasks.

The remote item is kept as the peer's public delivery answered it, so the copy is made later by
the same worker as local tasks, and the copy carries its provenance (platform, site, URL,
resource id) for the page meta. Receiving is idempotent per (peer, remote publication id), so a
federation consumer that replays an event changes nothing.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, RemoteItem, Subscription, SyndicationTask
from services.content.remote_schemas import RemoteItemIn
from services.content.service.columns import get_column
from services.content.service.common import wake
from services.content.service.publications import emit_state
from services.content.service.sites import get_site
from services.content.vocab import (
    OPEN_TASK_STATES,
    FeedState,
    PublicationState,
    SiteStatus,
    TaskState,
    Worker,
)
from services.kernel.clock import aware, now
from services.kernel.errors import Conflict

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
LIVE_COPY_STATES = (
    PublicationState.DRAFT,
    PublicationState.IN_REVIEW,
    PublicationState.APPROVED,
    PublicationState.PUBLISHED,
)


def _text(body_html: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", body_html))).strip()


async def _find(session: AsyncSession, peer: str, publication_id: int) -> RemoteItem | None:
    stmt = select(RemoteItem).where(
        col(RemoteItem.peer) == peer, col(RemoteItem.remote_publication_id) == publication_id
    )
    return (await session.execute(stmt)).scalars().first()


def _new_item(body: RemoteItemIn) -> RemoteItem:
    return RemoteItem(
        peer=body.peer,
        remote_site=body.site,
        remote_column_id=body.column_id,
        remote_publication_id=body.publication_id,
        title=body.title,
        body_html=body.body_html,
        meta=dict(body.metadata),
        index_no=body.index_no,
        attachments=list(body.attachments),
        resource_id=body.resource_id,
        resource_version=body.resource_version,
        url=body.url,
        # Stored as UTC like every instant here (SQLite keeps no offset).
        published_at=body.published_at.astimezone(UTC),
        received_at=now(),
    )


def _task(
    item: RemoteItem, subscription_id: int, site: str, column_id: int, auto: bool, deadline: timedelta
) -> SyndicationTask:
    return SyndicationTask(
        source_remote_id=item.id,
        subscription_id=subscription_id,
        subscriber_site=site,
        subscriber_column_id=column_id,
        auto_publish=auto,
        # The 12 hours run from the publication at the source, not from our receiving it.
        due_at=aware(item.published_at or now()) + deadline,
        created_at=now(),
    )


async def receive(
    session: AsyncSession, body: RemoteItemIn, deadline: timedelta
) -> tuple[RemoteItem | None, int]:
    """Keep a peer's important item and open a task on every subscribed column; (item, new tasks).
    An item no column subscribed to is not kept (None, 0)."""
    subscriptions = list(
        (
            await session.execute(
                select(Subscription).where(
                    col(Subscription.source_peer) == body.peer,
                    col(Subscription.source_site) == body.site,
                    col(Subscription.source_column_id) == body.column_id,
                )
            )
        ).scalars()
    )
    item = await _find(session, body.peer, body.publication_id)
    if item is None:
        if not subscriptions:
            return None, 0
        item = _new_item(body)
        session.add(item)
        await session.flush()
    if item.withdrawn_at is not None:
        return item, 0
    created = 0
    for s in subscriptions:
        exists = await session.execute(
            select(col(SyndicationTask.id)).where(
                col(SyndicationTask.source_remote_id) == item.id, col(SyndicationTask.subscription_id) == s.id
            )
        )
        if exists.first():
            continue
        session.add(
            _task(item, s.id or 0, s.subscriber_site, s.subscriber_column_id, s.auto_publish, deadline)
        )
        created += 1
    if created:
        wake(session, Worker.SYNDICATION)
    return item, created


async def receive_pushed(
    session: AsyncSession, body: RemoteItemIn, deadline: timedelta
) -> tuple[RemoteItem, SyndicationTask, bool]:
    """A task a peer pushed (`body.target`): one task per peer item, whatever the replays; the
    copy waits for the site's editors (no auto-publish). Answers (item, task, created)."""
    assert body.target is not None
    target = body.target
    site = await get_site(session, target.site)
    if site.status == SiteStatus.OFFLINE:
        raise Conflict(f"站点 {site.code} 已下线，不接收转载任务")
    await get_column(session, target.site, target.column_id)
    item = await _find(session, body.peer, body.publication_id)
    if item is None:
        item = _new_item(body)
        session.add(item)
        await session.flush()
    if item.withdrawn_at is not None:
        raise Conflict(f"来源平台已撤回信息 {body.publication_id}")
    # A pushed task belongs to no subscription (0): its idempotency is the peer's item id.
    task = (
        await session.execute(
            select(SyndicationTask).where(
                col(SyndicationTask.source_remote_id) == item.id, col(SyndicationTask.subscription_id) == 0
            )
        )
    ).scalar_one_or_none()
    if task is not None:
        if (task.subscriber_site, task.subscriber_column_id) != (target.site, target.column_id):
            raise Conflict(f"该信息已推送至站点 {task.subscriber_site} 的栏目 {task.subscriber_column_id}")
        return item, task, False
    task = _task(item, 0, target.site, target.column_id, False, deadline)
    session.add(task)
    await session.flush()
    wake(session, Worker.SYNDICATION)
    return item, task, True


async def withdraw(session: AsyncSession, peer: str, publication_id: int) -> tuple[int, list[Publication]]:
    """The peer withdrew its item: cancel open tasks; answers (tasks cancelled, copies to take down)."""
    item = await _find(session, peer, publication_id)
    if item is None:
        return 0, []
    if item.withdrawn_at is None:
        item.withdrawn_at = now()
    tasks = (
        await session.execute(
            select(SyndicationTask).where(
                col(SyndicationTask.source_remote_id) == item.id,
                col(SyndicationTask.status).in_(OPEN_TASK_STATES),
            )
        )
    ).scalars()
    cancelled = 0
    for task in tasks:
        task.status = TaskState.CANCELLED
        task.completed_at = now()
        cancelled += 1
    copies = await session.execute(
        select(Publication).where(
            col(Publication.source_remote_id) == item.id, col(Publication.status).in_(LIVE_COPY_STATES)
        )
    )
    return cancelled, list(copies.scalars())


def provenance(item: RemoteItem) -> dict[str, object]:
    return {
        "platform": item.peer,
        "site": item.remote_site,
        "url": item.url,
        "resource_id": item.resource_id,
        "publication_id": item.remote_publication_id,
    }


async def remote_copy(
    session: AsyncSession, task: SyndicationTask
) -> tuple[SyndicationTask, Publication] | None:
    """The subscriber's draft copy of a peer's item (the task row is locked by the caller)."""
    item = await session.get(RemoteItem, task.source_remote_id)
    if item is None or item.withdrawn_at is not None:
        task.status = TaskState.CANCELLED
        task.completed_at = now()
        return None
    column = await get_column(session, task.subscriber_site, task.subscriber_column_id)
    copy = Publication(
        site_id=task.subscriber_site,
        column_id=column.id or 0,
        # The resource lives in the peer's library (stored there); the copy names it in provenance.
        resource_id=None,
        resource_version=None,
        title=item.title,
        body_html=item.body_html,
        body_text=_text(item.body_html),
        meta=dict(item.meta),
        index_no=item.index_no,
        attachments=list(item.attachments),
        review_chain=list(column.review_chain),
        created_by="syndication",
        source_remote_id=item.id,
        provenance=provenance(item),
        created_at=now(),
        updated_at=now(),
    )
    session.add(copy)
    await emit_state(session, copy, FeedState.CREATED)
    return task, copy
