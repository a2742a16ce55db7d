"""Re-publication within 12 hours (article 42): subscriptions, tasks and the copies they make.

A subordinate site subscribes one of its columns to a column of a superior site. Publishing an
item marked important there creates one task per subscriber, due 12 hours after it went live;
the worker turns each task into a draft on the subscriber (or publishes it directly when the
subscriber chose auto-publish), pinning the same stored resource version. Only subscriptions
create tasks, so nobody can push into a site that has not subscribed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, Site, SiteColumn, Subscription, SyndicationTask
from services.content.schemas import SubscriptionCreate, SubscriptionOut, TaskOut
from services.content.service.columns import get_column
from services.content.service.common import wake
from services.content.service.publications import emit_state
from services.content.service.remote import remote_copy
from services.content.vocab import (
    OPEN_TASK_STATES,
    VISIBLE_STATES,
    FeedState,
    PublicationState,
    TaskState,
    Worker,
)
from services.kernel.clock import aware, now
from services.kernel.errors import Conflict, NotFound, ValidationFailed

# Copies that a withdrawn source takes down with it.
LIVE_COPY_STATES = (
    PublicationState.DRAFT,
    PublicationState.IN_REVIEW,
    PublicationState.APPROVED,
    PublicationState.PUBLISHED,
)


async def _ancestors(session: AsyncSession, site_code: str) -> list[str]:
    chain: list[str] = []
    current = site_code
    while True:
        parent = (
            await session.execute(select(col(Site.parent_code)).where(col(Site.code) == current))
        ).scalar_one_or_none()
        if not parent or parent in chain:
            return chain
        chain.append(parent)
        current = parent


async def subscribe(session: AsyncSession, site: str, body: SubscriptionCreate, actor: str) -> Subscription:
    column = await get_column(session, site, body.column_id)
    if body.source_peer is not None:
        return await _subscribe_remote(session, site, column.id or 0, body, actor)
    source_column_id = body.source_column_id
    source = await session.get(SiteColumn, source_column_id)
    if source is None or source.deleted:
        raise NotFound(f"来源栏目 {source_column_id} 不存在")
    if source.site_id not in await _ancestors(session, site):
        raise ValidationFailed.field("source_column_id", "只能订阅上级网站的栏目")
    existing = await session.execute(
        select(col(Subscription.id)).where(
            col(Subscription.subscriber_column_id) == column.id,
            col(Subscription.source_column_id) == source_column_id,
            col(Subscription.source_peer).is_(None),
        )
    )
    if existing.first():
        raise Conflict("该栏目已订阅此来源栏目")
    subscription = Subscription(
        subscriber_site=site,
        subscriber_column_id=column.id or 0,
        source_site=source.site_id,
        source_column_id=source_column_id,
        auto_publish=body.auto_publish,
        created_by=actor,
        created_at=now(),
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def _subscribe_remote(
    session: AsyncSession, site: str, column_id: int, body: SubscriptionCreate, actor: str
) -> Subscription:
    """A column of a peer platform: only items its federation forwards create tasks, so an
    unknown peer or column simply never yields any (content cannot see the peer itself)."""
    if not body.source_site:
        raise ValidationFailed.field("source_site", "订阅其他平台的栏目须给出来源站点代码")
    existing = await session.execute(
        select(col(Subscription.id)).where(
            col(Subscription.subscriber_column_id) == column_id,
            col(Subscription.source_peer) == body.source_peer,
            col(Subscription.source_site) == body.source_site,
            col(Subscription.source_column_id) == body.source_column_id,
        )
    )
    if existing.first():
        raise Conflict("该栏目已订阅此来源栏目")
    subscription = Subscription(
        subscriber_site=site,
        subscriber_column_id=column_id,
        source_site=body.source_site,
        source_column_id=body.source_column_id,
        source_peer=body.source_peer,
        auto_publish=body.auto_publish,
        created_by=actor,
        created_at=now(),
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def list_subscriptions(session: AsyncSession, site: str) -> list[Subscription]:
    stmt = (
        select(Subscription).where(col(Subscription.subscriber_site) == site).order_by(col(Subscription.id))
    )
    return list((await session.execute(stmt)).scalars())


async def unsubscribe(session: AsyncSession, site: str, subscription_id: int) -> None:
    subscription = await session.get(Subscription, subscription_id)
    if subscription is None or subscription.subscriber_site != site:
        raise NotFound(f"订阅 {subscription_id} 不存在")
    await session.delete(subscription)


def subscription_out(s: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id or 0,
        site=s.subscriber_site,
        column_id=s.subscriber_column_id,
        source_site=s.source_site,
        source_column_id=s.source_column_id,
        source_peer=s.source_peer,
        auto_publish=s.auto_publish,
        created_at=s.created_at,
    )


async def create_tasks(
    session: AsyncSession, source: Publication, went_live: datetime, deadline: timedelta
) -> int:
    subscriptions = (
        await session.execute(
            select(Subscription).where(
                col(Subscription.source_column_id) == source.column_id,
                col(Subscription.source_peer).is_(None),
            )
        )
    ).scalars()
    count = 0
    for s in subscriptions:
        exists = await session.execute(
            select(col(SyndicationTask.id)).where(
                col(SyndicationTask.source_publication_id) == source.id,
                col(SyndicationTask.subscription_id) == s.id,
            )
        )
        if exists.first():
            continue
        session.add(
            SyndicationTask(
                source_publication_id=source.id or 0,
                subscription_id=s.id or 0,
                subscriber_site=s.subscriber_site,
                subscriber_column_id=s.subscriber_column_id,
                auto_publish=s.auto_publish,
                due_at=went_live + deadline,
                created_at=now(),
            )
        )
        count += 1
    if count:
        wake(session, Worker.SYNDICATION)
    return count


async def pending_task_ids(session: AsyncSession, limit: int = 50) -> list[int]:
    """Due tasks, oldest first; a task that failed waits out its backoff behind the others."""
    moment = now()
    stmt = (
        select(col(SyndicationTask.id))
        .where(col(SyndicationTask.status) == TaskState.PENDING)
        .where(
            or_(
                col(SyndicationTask.next_attempt_at).is_(None), col(SyndicationTask.next_attempt_at) <= moment
            )
        )
        .order_by(col(SyndicationTask.id))
        .limit(limit)
    )
    return [i for i in (await session.execute(stmt)).scalars() if i is not None]


async def record_failure(
    session: AsyncSession, task_id: int, error: str, *, max_attempts: int, backoff: float
) -> TaskState | None:
    """Count a failed try: back off exponentially, or make the task a dead letter after the last."""
    task = await session.get(SyndicationTask, task_id, with_for_update=True)
    if task is None or task.status != TaskState.PENDING:
        return None
    task.attempts += 1
    task.last_error = error[:300]
    if task.attempts >= max_attempts:
        task.status = TaskState.DEAD
    else:
        task.next_attempt_at = now() + timedelta(seconds=backoff * 2 ** (task.attempts - 1))
    return TaskState(task.status)


async def dead_tasks(session: AsyncSession, site: str) -> list[SyndicationTask]:
    stmt = (
        select(SyndicationTask)
        .where(col(SyndicationTask.subscriber_site) == site, col(SyndicationTask.status) == TaskState.DEAD)
        .order_by(col(SyndicationTask.id))
    )
    return list((await session.execute(stmt)).scalars())


async def retry_task(session: AsyncSession, site: str, task_id: int) -> SyndicationTask:
    task = await session.get(SyndicationTask, task_id)
    if task is None or task.subscriber_site != site:
        raise NotFound(f"转载任务 {task_id} 不存在")
    if task.status != TaskState.DEAD:
        raise Conflict(f"转载任务 {task_id} 当前状态为 {task.status}，只有失败的任务可以重试")
    task.status = TaskState.PENDING
    task.attempts = 0
    task.next_attempt_at = None
    wake(session, Worker.SYNDICATION)
    return task


async def make_copy(session: AsyncSession, task_id: int) -> tuple[SyndicationTask, Publication] | None:
    """The subscriber's draft copy of a pending task's source, or None when nothing is to be done."""
    # Row lock: two replicas woken for the same task must not both make a copy (PostgreSQL).
    task = await session.get(SyndicationTask, task_id, with_for_update=True)
    if task is None or task.status != TaskState.PENDING:
        return None
    if task.source_remote_id is not None:
        return await remote_copy(session, task)
    source = await session.get(Publication, task.source_publication_id)
    if source is None or source.status not in VISIBLE_STATES:
        task.status = TaskState.CANCELLED
        task.completed_at = now()
        return None
    column = await get_column(session, task.subscriber_site, task.subscriber_column_id)
    copy = Publication(
        site_id=task.subscriber_site,
        column_id=column.id or 0,
        resource_id=source.resource_id,
        resource_version=source.resource_version,
        title=source.title,
        body_html=source.body_html,
        body_text=source.body_text,
        meta=dict(source.meta),
        index_no=source.index_no,
        attachments=list(source.attachments),
        interprets_resource_id=source.interprets_resource_id,
        review_chain=list(column.review_chain),
        created_by="syndication",
        source_publication_id=source.id,
        created_at=now(),
        updated_at=now(),
    )
    session.add(copy)
    await emit_state(session, copy, FeedState.CREATED)
    return task, copy


def settle(task: SyndicationTask, copy: Publication) -> None:
    """The task is met when the copy is live; a draft still awaits the subscriber's review."""
    task.target_publication_id = copy.id
    task.status = TaskState.DONE if copy.status == PublicationState.PUBLISHED else TaskState.DRAFTED
    task.completed_at = now() if task.status == TaskState.DONE else None


async def copy_went_live(session: AsyncSession, copy: Publication) -> None:
    stmt = select(SyndicationTask).where(col(SyndicationTask.target_publication_id) == copy.id)
    for task in (await session.execute(stmt)).scalars():
        if task.status == TaskState.DRAFTED:
            task.status = TaskState.DONE
            task.completed_at = now()


async def cancel_for(session: AsyncSession, source: Publication) -> list[Publication]:
    """Cancel the open tasks of a withdrawn source; answers the copies to take down with it."""
    tasks = (
        await session.execute(
            select(SyndicationTask).where(
                col(SyndicationTask.source_publication_id) == source.id,
                col(SyndicationTask.status).in_(OPEN_TASK_STATES),
            )
        )
    ).scalars()
    for task in tasks:
        task.status = TaskState.CANCELLED
        task.completed_at = now()
    copies = await session.execute(
        select(Publication).where(
            col(Publication.source_publication_id) == source.id,
            col(Publication.status).in_(LIVE_COPY_STATES),
        )
    )
    return list(copies.scalars())


async def list_tasks(
    session: AsyncSession, sites: set[str | None], overdue: bool, status: TaskState | None
) -> list[TaskOut]:
    stmt = select(SyndicationTask).order_by(col(SyndicationTask.due_at), col(SyndicationTask.id))
    if None not in sites:
        stmt = stmt.where(col(SyndicationTask.subscriber_site).in_([s for s in sites if s]))
    if status:
        stmt = stmt.where(col(SyndicationTask.status) == status)
    moment = now()
    out = []
    for t in (await session.execute(stmt.limit(500))).scalars():
        due = aware(t.due_at) if t.due_at is not None else moment
        late = t.status in OPEN_TASK_STATES and due < moment
        if overdue and not late:
            continue
        out.append(
            TaskOut(
                id=t.id or 0,
                source_publication_id=t.source_publication_id,
                source_remote_id=t.source_remote_id,
                subscription_id=t.subscription_id,
                site=t.subscriber_site,
                column_id=t.subscriber_column_id,
                auto_publish=t.auto_publish,
                status=TaskState(t.status),
                due_at=due,
                overdue=late,
                target_publication_id=t.target_publication_id,
                created_at=t.created_at,
                completed_at=t.completed_at,
            )
        )
    return out
