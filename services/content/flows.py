"""Transitions that fan out across modules: going live, being taken down, 转载 copies.

Going live creates re-publication tasks and push deliveries and completes the task whose copy
this is; a take-down cancels open tasks and takes the copies down with it; a task's copy may go
live at once (auto-publish). The plain modules below never import this one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication
from services.content.schemas import ActionBody
from services.content.service import newmedia, push, remote, review, syndication
from services.content.service.publications import emit_state
from services.content.service.review import require_editor
from services.content.vocab import Action, FeedState, PublicationState, RecordAction
from services.kernel.auth import Principal
from services.kernel.clock import aware, now
from services.kernel.errors import Conflict

State = PublicationState


async def go_live(
    session: AsyncSession,
    publication: Publication,
    actor: Principal | None,
    body: ActionBody,
    *,
    deadline: timedelta,
) -> None:
    """Make an approved item public now; shared by the publish action, the scheduler and 转载."""
    await review.mark_live(session, publication, actor, body)
    if publication.source_publication_id is not None:
        await syndication.copy_went_live(session, publication)
    if publication.important:
        await syndication.create_tasks(session, publication, publication.published_at or now(), deadline)
    await push.enqueue(session, publication, FeedState.PUBLISHED)
    await newmedia.enqueue(session, publication)


async def take_down(
    session: AsyncSession, publication: Publication, actor: Principal | None, body: ActionBody
) -> None:
    await review.mark_withdrawn(session, publication, actor, body)
    for copy in await syndication.cancel_for(session, publication):
        note = ActionBody(opinion=f"来源信息 {publication.id} 已撤回，转载随之撤回")
        await take_down(session, copy, None, note)


async def withdraw_remote(session: AsyncSession, peer: str, publication_id: int) -> tuple[int, list[int]]:
    """A peer withdrew an item: its open tasks end and the copies made of it go down with it."""
    cancelled, copies = await remote.withdraw(session, peer, publication_id)
    withdrawn: list[int] = []
    for copy in copies:
        await take_down(
            session, copy, None, ActionBody(opinion=f"来源平台 {peer} 已撤回原信息，转载随之撤回")
        )
        withdrawn.append(copy.id or 0)
    return cancelled, withdrawn


async def publish(
    session: AsyncSession,
    publication: Publication,
    principal: Principal,
    body: ActionBody,
    *,
    deadline: timedelta,
) -> None:
    require_editor(principal, publication.site_id)
    if publication.status in (State.DRAFT, State.IN_REVIEW):
        raise Conflict("信息尚未通过审核，不能发布（先审后发）")
    if publication.status != State.APPROVED:
        raise Conflict(f"信息当前状态为 {publication.status}，不能发布")
    publish_at = aware(publication.publish_at) if publication.publish_at else None
    if publish_at is not None and publish_at > now() + timedelta(seconds=1):
        review.record(session, publication, RecordAction.SCHEDULE, principal, body)
        await emit_state(session, publication, FeedState.UPDATED)
        return
    await go_live(session, publication, principal, body, deadline=deadline)


async def withdraw(
    session: AsyncSession, publication: Publication, principal: Principal, body: ActionBody
) -> None:
    require_editor(principal, publication.site_id)
    if publication.status not in (State.APPROVED, State.PUBLISHED):
        raise Conflict(f"信息当前状态为 {publication.status}，不能撤回")
    await take_down(session, publication, principal, body)


async def act(
    session: AsyncSession,
    publication: Publication,
    action: Action,
    principal: Principal,
    body: ActionBody,
    *,
    deadline: timedelta,
) -> None:
    if publication.status == State.ARCHIVED and action != Action.ARCHIVE:
        raise Conflict("已归档的信息不能再变更")
    match action:
        case Action.SUBMIT:
            await review.submit(session, publication, principal, body)
        case Action.APPROVE:
            await review.approve(session, publication, principal, body)
        case Action.REJECT:
            await review.reject(session, publication, principal, body)
        case Action.PUBLISH:
            await publish(session, publication, principal, body, deadline=deadline)
        case Action.WITHDRAW:
            await withdraw(session, publication, principal, body)
        case Action.ARCHIVE:
            await review.archive(session, publication, principal, body)


async def run_task(session: AsyncSession, task_id: int, *, deadline: timedelta) -> None:
    """Make the subscriber's copy of a 转载 task, live at once when it auto-publishes; idempotent."""
    made = await syndication.make_copy(session, task_id)
    if made is None:
        return
    task, copy = made
    if task.auto_publish:
        copy.status = State.APPROVED
        origin = task.source_publication_id or f"{copy.provenance and copy.provenance.get('url')}"
        note = ActionBody(opinion=f"自动转载自信息 {origin}")
        await go_live(session, copy, None, note, deadline=deadline)
    syndication.settle(task, copy)


async def publish_due(session: AsyncSession, publication_id: int, *, deadline: timedelta) -> None:
    """The scheduler's publish of an approved item whose time has come."""
    publication = await session.get(Publication, publication_id, with_for_update=True)
    if publication is not None and publication.status == State.APPROVED:
        await go_live(session, publication, None, ActionBody(opinion="定时发布"), deadline=deadline)


async def expire(session: AsyncSession, publication_id: int) -> None:
    publication = await session.get(Publication, publication_id, with_for_update=True)
    if publication is not None and publication.status == State.PUBLISHED:
        await take_down(session, publication, None, ActionBody(opinion="到期自动下线"))


# What a takedown can withdraw; archived items are frozen by the archive rules and stay (their
# attachments are unreachable all the same: resources blocks the bytes).
WITHDRAWABLE = (State.DRAFT, State.IN_REVIEW, State.APPROVED, State.PUBLISHED)


async def withdraw_uses(session: AsyncSession, resource_id: int, reason: str) -> list[int]:
    """A platform takedown (下架) of a resource: every publication using it is taken down."""
    rows = (
        await session.execute(
            select(Publication)
            .where(col(Publication.resource_id) == resource_id, col(Publication.status).in_(WITHDRAWABLE))
            .order_by(col(Publication.id))
            .with_for_update()
        )
    ).scalars()
    withdrawn: list[int] = []
    for publication in list(rows):
        if publication.status not in WITHDRAWABLE:  # a copy an earlier take_down already withdrew
            continue
        await take_down(session, publication, None, ActionBody(opinion=f"资源已被平台下架：{reason}"))
        assert publication.id is not None
        withdrawn.append(publication.id)
    return withdrawn
