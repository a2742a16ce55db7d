"""The publication state machine: submit, approve, reject, publish, withdraw, archive.

Review before publication (先审后发): a publication walks its column's chain step by step;
each step needs the role the chain names on the item's site; the submitter may not approve,
nor may one person approve twice in a round; every step is recorded with the opinion and
the confidentiality check (保密审查).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Publication, ReviewRecord, Site
from services.content.service import push, syndication
from services.content.service.common import aware, holds, now
from services.content.service.documents import is_policy, original_published_at
from services.content.service.publications import emit_state, names_of
from services.kernel.auth import Principal
from services.kernel.errors import Conflict, Forbidden, ValidationFailed

ACTIONS = ("submit", "approve", "reject", "publish", "withdraw", "archive")


async def _record(
    session: AsyncSession,
    publication: Publication,
    action: str,
    principal: Principal | None,
    body: dict[str, Any],
    *,
    step: int | None = None,
    role: str | None = None,
) -> None:
    check = body.get("confidentiality_check") or None
    session.add(
        ReviewRecord(
            publication_id=publication.id or 0,
            review_round=publication.review_round,
            step=step,
            role=role,
            action=action,
            actor=principal.sub if principal else "system",
            actor_name=(principal.name if principal else "") or "",
            opinion=(body.get("opinion") or "")[:2000],
            confidentiality_passed=None if check is None else bool(check.get("passed")),
            confidentiality_note=(check or {}).get("note") or "",
            at=now(),
        )
    )


def _require_editor(principal: Principal, site: str) -> None:
    if not holds(principal, site, "editor", "site_admin"):
        raise Forbidden(f"需要站点 {site} 的编辑或站点管理员角色")


async def submit(
    session: AsyncSession, publication: Publication, principal: Principal, body: dict[str, Any]
) -> None:
    _require_editor(principal, publication.site_id)
    if publication.status != "draft":
        raise Conflict(f"只有草稿可以提交审核（当前状态 {publication.status}）")
    if not publication.review_chain:
        raise Conflict("该信息没有审核流程，不能提交")
    publication.review_round += 1
    publication.review_step = 0
    publication.pending_role = publication.review_chain[0]
    publication.submitted_by = principal.sub
    publication.status = "in_review"
    await _record(session, publication, "submit", principal, body)
    await emit_state(session, publication, "submitted")


async def _approved_by(session: AsyncSession, publication: Publication, actor: str) -> bool:
    stmt = select(col(ReviewRecord.id)).where(
        col(ReviewRecord.publication_id) == publication.id,
        col(ReviewRecord.review_round) == publication.review_round,
        col(ReviewRecord.action) == "approve",
        col(ReviewRecord.actor) == actor,
    )
    return (await session.execute(stmt)).first() is not None


async def _check_reviewer(session: AsyncSession, publication: Publication, principal: Principal) -> str:
    if publication.status != "in_review" or publication.pending_role is None:
        raise Conflict(f"该信息不在审核中（当前状态 {publication.status}）")
    role = publication.pending_role
    if not (principal.is_internal or principal.has_role(role, publication.site_id)):
        raise Forbidden(f"当前审核环节需要站点 {publication.site_id} 的 {role} 角色")
    if publication.submitted_by == principal.sub:
        raise Forbidden("不能审核自己提交的信息")
    if await _approved_by(session, publication, principal.sub):
        raise Forbidden("同一审核流程中同一人只能审核一次")
    return role


async def approve(
    session: AsyncSession, publication: Publication, principal: Principal, body: dict[str, Any]
) -> None:
    role = await _check_reviewer(session, publication, principal)
    check = body.get("confidentiality_check")
    if not isinstance(check, dict) or check.get("passed") is None:
        raise ValidationFailed.field("confidentiality_check", "审核通过须记录保密审查结果 {passed, note}")
    if not check.get("passed"):
        raise Conflict("保密审查未通过，不能审核通过；请退回修改")
    step = publication.review_step
    await _record(session, publication, "approve", principal, body, step=step, role=role)
    if step + 1 < len(publication.review_chain):
        publication.review_step = step + 1
        publication.pending_role = publication.review_chain[step + 1]
        publication.updated_at = now()
        await emit_state(session, publication, "updated")
        return
    publication.review_step = step + 1
    publication.pending_role = None
    publication.status = "approved"
    publication.updated_at = now()
    await emit_state(session, publication, "approved")


async def reject(
    session: AsyncSession, publication: Publication, principal: Principal, body: dict[str, Any]
) -> None:
    role = await _check_reviewer(session, publication, principal)
    if not (body.get("opinion") or "").strip():
        raise ValidationFailed.field("opinion", "退回须填写审核意见")
    await _record(session, publication, "reject", principal, body, step=publication.review_step, role=role)
    publication.status = "draft"
    publication.pending_role = None
    publication.updated_at = now()
    await emit_state(session, publication, "rejected")


async def _check_interpretation(session: AsyncSession, publication: Publication) -> None:
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
        col(Publication.status).in_(("approved", "published")),
    )
    if (await session.execute(stmt)).first() is None:
        raise Conflict("本站要求政策文件与其政策解读同步发布：请先完成该政策的解读并通过审核")


async def go_live(
    session: AsyncSession, publication: Publication, actor: Principal | None, body: dict[str, Any]
) -> None:
    """Make an approved item public now; shared by the publish action, the scheduler and 转载."""
    await _check_interpretation(session, publication)
    moment = now()
    publication.status = "published"
    original = original_published_at(publication.meta) if publication.published_at is None else None
    publication.published_at = original or moment
    publication.withdrawn_at = None
    publication.updated_at = moment
    await _record(session, publication, "publish", actor, body)
    await emit_state(session, publication, "published")
    if publication.source_publication_id is not None:
        await syndication.copy_went_live(session, publication)
    if publication.important:
        await syndication.create_tasks(session, publication, moment)
    await push.enqueue(session, publication, "published")


async def publish(
    session: AsyncSession, publication: Publication, principal: Principal, body: dict[str, Any]
) -> None:
    _require_editor(principal, publication.site_id)
    if publication.status in ("draft", "in_review"):
        raise Conflict("信息尚未通过审核，不能发布（先审后发）")
    if publication.status != "approved":
        raise Conflict(f"信息当前状态为 {publication.status}，不能发布")
    publish_at = aware(publication.publish_at)
    if publish_at is not None and publish_at > now() + timedelta(seconds=1):
        await _record(session, publication, "schedule", principal, body)
        await emit_state(session, publication, "updated")
        return
    await go_live(session, publication, principal, body)


async def take_down(
    session: AsyncSession, publication: Publication, actor: Principal | None, body: dict[str, Any]
) -> None:
    if publication.status not in ("approved", "published", "in_review", "draft"):
        raise Conflict(f"信息当前状态为 {publication.status}，不能撤回")
    publication.status = "withdrawn"
    publication.pending_role = None
    publication.withdrawn_at = now()
    publication.updated_at = now()
    await _record(session, publication, "withdraw", actor, body)
    await emit_state(session, publication, "withdrawn")
    await syndication.withdraw_copies(session, publication)


async def withdraw(
    session: AsyncSession, publication: Publication, principal: Principal, body: dict[str, Any]
) -> None:
    _require_editor(principal, publication.site_id)
    if publication.status not in ("approved", "published"):
        raise Conflict(f"信息当前状态为 {publication.status}，不能撤回")
    await take_down(session, publication, principal, body)


async def archive(
    session: AsyncSession, publication: Publication, principal: Principal, body: dict[str, Any]
) -> None:
    _require_editor(principal, publication.site_id)
    if publication.status != "published":
        raise Conflict(f"只有已发布的信息可以归档（当前状态 {publication.status}）")
    publication.status = "archived"
    publication.archived_at = now()
    publication.updated_at = now()
    await _record(session, publication, "archive", principal, body)
    await emit_state(session, publication, "archived")


HANDLERS = {
    "submit": submit,
    "approve": approve,
    "reject": reject,
    "publish": publish,
    "withdraw": withdraw,
    "archive": archive,
}


async def act(
    session: AsyncSession, publication: Publication, action: str, principal: Principal, body: dict[str, Any]
) -> None:
    if publication.status == "archived" and action != "archive":
        raise Conflict("已归档的信息不能再变更")
    await HANDLERS[action](session, publication, principal, body)
