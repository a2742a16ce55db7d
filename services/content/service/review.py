"""The publication state machine's own steps: submit, approve, reject, archive, and the state
changes of going live and being taken down (their fan-out to 转载 and push is in `flows.py`).

Review before publication (先审后发): a publication walks its column's chain step by step;
each step needs the role the chain names on the item's site; the submitter may not approve,
nor may one person approve twice in a round; every step is recorded with the opinion and
the confidentiality check (保密审查).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, ReviewRecord, Site
from services.content.schemas import ActionBody
from services.content.service.common import holds
from services.content.service.documents import is_policy, original_published_at
from services.content.service.publications import emit_state, names_of
from services.content.vocab import Action, FeedState, PublicationState, RecordAction
from services.kernel.auth import Principal
from services.kernel.clock import now
from services.kernel.errors import Conflict, Forbidden, ValidationFailed
from services.kernel.roles import Role

State = PublicationState
# What a take-down may start from (a copy can be withdrawn before its subscriber reviewed it).
TAKE_DOWN_FROM = (State.APPROVED, State.PUBLISHED, State.IN_REVIEW, State.DRAFT)


def record(
    session: AsyncSession,
    publication: Publication,
    action: RecordAction,
    principal: Principal | None,
    body: ActionBody,
    *,
    step: int | None = None,
    role: str | None = None,
) -> None:
    check = body.confidentiality_check
    session.add(
        ReviewRecord(
            publication_id=publication.id or 0,
            review_round=publication.review_round,
            step=step,
            role=role,
            action=action,
            actor=principal.sub if principal else "system",
            actor_name=(principal.name if principal else "") or "",
            opinion=body.opinion[:2000],
            confidentiality_passed=None if check is None else check.passed,
            confidentiality_note=check.note if check else "",
            at=now(),
        )
    )


def require_editor(principal: Principal, site: str) -> None:
    if not holds(principal, site, Role.EDITOR, Role.SITE_ADMIN):
        raise Forbidden(f"需要站点 {site} 的编辑或站点管理员角色")


async def submit(
    session: AsyncSession, publication: Publication, principal: Principal, body: ActionBody
) -> None:
    require_editor(principal, publication.site_id)
    if publication.status != State.DRAFT:
        raise Conflict(f"只有草稿可以提交审核（当前状态 {publication.status}）")
    if not publication.review_chain:
        raise Conflict("该信息没有审核流程，不能提交")
    publication.review_round += 1
    publication.review_step = 0
    publication.pending_role = publication.review_chain[0]
    publication.submitted_by = principal.sub
    publication.status = State.IN_REVIEW
    record(session, publication, RecordAction.SUBMIT, principal, body)
    await emit_state(session, publication, FeedState.SUBMITTED)


async def _approved_by(session: AsyncSession, publication: Publication, actor: str) -> bool:
    stmt = select(col(ReviewRecord.id)).where(
        col(ReviewRecord.publication_id) == publication.id,
        col(ReviewRecord.review_round) == publication.review_round,
        col(ReviewRecord.action) == RecordAction.APPROVE,
        col(ReviewRecord.actor) == actor,
    )
    return (await session.execute(stmt)).first() is not None


def own_item(publication: Publication, principal: Principal) -> bool:
    """Whoever wrote or submitted an item never reviews it, whatever roles they also hold."""
    return principal.sub in (publication.created_by, publication.submitted_by)


async def _check_reviewer(session: AsyncSession, publication: Publication, principal: Principal) -> str:
    if publication.status != State.IN_REVIEW or publication.pending_role is None:
        raise Conflict(f"该信息不在审核中（当前状态 {publication.status}）")
    role = publication.pending_role
    if not (principal.is_internal or principal.has_role(role, publication.site_id)):
        raise Forbidden(f"当前审核环节需要站点 {publication.site_id} 的 {role} 角色")
    if principal.sub == publication.created_by:
        raise Forbidden("不能审核自己撰写的信息")
    if principal.sub == publication.submitted_by:
        raise Forbidden("不能审核自己提交的信息")
    if await _approved_by(session, publication, principal.sub):
        raise Forbidden("同一审核流程中同一人只能审核一次")
    return role


async def record_refusal(
    session: AsyncSession, publication_id: int, principal: Principal, action: Action, reason: str
) -> None:
    """Keep a refused review of one's own item on its record (written in its own transaction)."""
    publication = await session.get(Publication, publication_id)
    if publication is None:
        return
    note = ActionBody(opinion=f"{action}被拒绝：{reason}")
    record(
        session,
        publication,
        RecordAction.REFUSED,
        principal,
        note,
        step=publication.review_step,
        role=publication.pending_role,
    )


async def approve(
    session: AsyncSession, publication: Publication, principal: Principal, body: ActionBody
) -> None:
    role = await _check_reviewer(session, publication, principal)
    check = body.confidentiality_check
    if check is None:
        raise ValidationFailed.field("confidentiality_check", "审核通过须记录保密审查结果 {passed, note}")
    if not check.passed:
        raise Conflict("保密审查未通过，不能审核通过；请退回修改")
    step = publication.review_step
    record(session, publication, RecordAction.APPROVE, principal, body, step=step, role=role)
    publication.review_step = step + 1
    publication.updated_at = now()
    if step + 1 < len(publication.review_chain):
        publication.pending_role = publication.review_chain[step + 1]
        await emit_state(session, publication, FeedState.UPDATED)
        return
    publication.pending_role = None
    publication.status = State.APPROVED
    await emit_state(session, publication, FeedState.APPROVED)


async def reject(
    session: AsyncSession, publication: Publication, principal: Principal, body: ActionBody
) -> None:
    role = await _check_reviewer(session, publication, principal)
    if not body.opinion.strip():
        raise ValidationFailed.field("opinion", "退回须填写审核意见")
    record(
        session, publication, RecordAction.REJECT, principal, body, step=publication.review_step, role=role
    )
    publication.status = State.DRAFT
    publication.pending_role = None
    publication.updated_at = now()
    await emit_state(session, publication, FeedState.REJECTED)


async def archive(
    session: AsyncSession, publication: Publication, principal: Principal, body: ActionBody
) -> None:
    require_editor(principal, publication.site_id)
    if publication.status != State.PUBLISHED:
        raise Conflict(f"只有已发布的信息可以归档（当前状态 {publication.status}）")
    publication.status = State.ARCHIVED
    publication.archived_at = now()
    publication.updated_at = now()
    record(session, publication, RecordAction.ARCHIVE, principal, body)
    await emit_state(session, publication, FeedState.ARCHIVED)


async def check_interpretation(session: AsyncSession, publication: Publication) -> None:
    """Article 26: a site may require a policy's interpretation to be ready before it goes live."""
    site = (await session.execute(select(Site).where(col(Site.code) == publication.site_id))).scalar_one()
    if not site.require_interpretation:
        return
    _, column_name = await names_of(session, publication)
    if not is_policy(publication, column_name) or publication.resource_id is None:
        return
    stmt = select(col(Publication.id)).where(
        col(Publication.site_id) == publication.site_id,
        col(Publication.interprets_resource_id) == publication.resource_id,
        col(Publication.status).in_((State.APPROVED, State.PUBLISHED)),
    )
    if (await session.execute(stmt)).first() is None:
        raise Conflict("本站要求政策文件与其政策解读同步发布：请先完成该政策的解读并通过审核")


async def mark_live(
    session: AsyncSession, publication: Publication, actor: Principal | None, body: ActionBody
) -> None:
    await check_interpretation(session, publication)
    moment = now()
    publication.status = State.PUBLISHED
    original = original_published_at(publication.meta) if publication.published_at is None else None
    publication.published_at = original or moment
    publication.withdrawn_at = None
    publication.updated_at = moment
    record(session, publication, RecordAction.PUBLISH, actor, body)
    await emit_state(session, publication, FeedState.PUBLISHED)


async def mark_withdrawn(
    session: AsyncSession, publication: Publication, actor: Principal | None, body: ActionBody
) -> None:
    if publication.status not in TAKE_DOWN_FROM:
        raise Conflict(f"信息当前状态为 {publication.status}，不能撤回")
    publication.status = State.WITHDRAWN
    publication.pending_role = None
    publication.withdrawn_at = now()
    publication.updated_at = now()
    record(session, publication, RecordAction.WITHDRAW, actor, body)
    await emit_state(session, publication, FeedState.WITHDRAWN)
