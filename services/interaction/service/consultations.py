"""A consultation's life: draft → open (comments between its start and end) → closed → feedback
published, linked to the final policy in the resource library.

Every comment passes the machine review (blocked ones are never public; their author sees why)
and then a person; what the public reads is redacted when the comment is written, with the
author's own name among what is hidden.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only
from sqlmodel import col

from services.interaction.models import Consultation, ConsultationComment, feed_tables
from services.interaction.schemas.consultations import (
    AttachmentRefIn,
    CommentIn,
    CommentStatus,
    ConsultationIn,
    ConsultationStatus,
    ConsultationTopic,
    Decision,
    FeedbackIn,
)
from services.interaction.service.listing import consultation_listing
from services.interaction.service.redaction import redact
from services.interaction.service.review import Review
from services.kernel.access import can_read, holds
from services.kernel.auth import Principal
from services.kernel.client import ServiceDirectory
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from services.kernel.feed import emit
from services.kernel.roles import Role

# Who moderates comments: the site's reviewers and editors (and its administrator).
MODERATOR_ROLES: tuple[Role, ...] = (Role.REVIEWER, Role.EDITOR, Role.SITE_ADMIN)

# (site, resource id, version) → the stored version's title; raises ValidationFailed (field
# named by the caller) when the library has no such stored version the site may use.
Library = Callable[[str, int, int, str], Awaitable[str]]


def resources_library(directory: ServiceDirectory) -> Library:
    async def check(site: str, resource_id: int, version: int, field: str) -> str:
        try:
            resp = await directory.client("resources").get(
                f"/api/resources/v1/resources/{resource_id}/versions/{version}", params={"for_site": site}
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("资源库暂不可用，请稍后再试") from exc
        if resp.status_code in (404, 409):
            raise ValidationFailed.field(
                field, f"资源库中没有站点 {site} 可用的已入库资源 {resource_id} 第 {version} 版"
            )
        if resp.status_code != 200:
            raise ServiceUnavailable(f"资源库暂不可用（resources 返回 {resp.status_code}）")
        return str(resp.json().get("metadata", {}).get("title") or f"资源 {resource_id}")

    return check


async def announce(
    session: AsyncSession, topic: ConsultationTopic, c: Consultation, **refs: int | str | None
) -> None:
    """References (ids, state, site) — never a comment, never an author — and, once public, the
    consultation's own public face for site search (`listing`)."""
    await emit(
        session,
        feed_tables,
        topic,
        c.id or 0,
        {"consultation_id": c.id, "status": c.status, **refs, **_listing(consultation_listing(c))},
        site_id=c.site,
    )


def _listing(listing: dict[str, Any] | None) -> dict[str, Any]:
    return {"listing": listing} if listing is not None else {}


NOT_PUBLIC = (ConsultationStatus.DRAFT, ConsultationStatus.WITHDRAWN)


def accepting(c: Consultation) -> bool:
    return c.status == ConsultationStatus.OPEN and c.starts_at <= epoch() < c.ends_at


async def settle(session: AsyncSession, c: Consultation) -> Consultation:
    """An open consultation whose end has passed is closed, by whoever touches it first."""
    if c.status == ConsultationStatus.OPEN and epoch() >= c.ends_at:
        c.status = ConsultationStatus.CLOSED
        c.closed_at = c.ends_at
        await announce(session, ConsultationTopic.CLOSED, c)
    return c


async def _attachments(
    site: str, attachments: list[AttachmentRefIn], library: Library
) -> list[dict[str, Any]]:
    out = []
    for i, att in enumerate(attachments):
        if att.resource_id is not None and att.resource_version is not None:
            await library(site, att.resource_id, att.resource_version, f"attachments.{i}.resource_id")
        out.append(att.model_dump())
    return out


async def close_due(session: AsyncSession) -> int:
    """Settle every open one whose end has passed, so `*.closed` is announced even if nobody looks."""
    due = await session.execute(
        select(Consultation)
        .where(col(Consultation.status) == ConsultationStatus.OPEN, col(Consultation.ends_at) <= epoch())
        .limit(500)
    )
    rows = list(due.scalars())
    for row in rows:
        await settle(session, row)
    return len(rows)


async def create(
    session: AsyncSession, site: str, body: ConsultationIn, actor: str, library: Library
) -> Consultation:
    c = Consultation(
        site=site,
        title=body.title,
        summary=body.summary,
        paragraphs=[p.model_dump() for p in body.paragraphs],
        attachments=await _attachments(site, body.attachments, library),
        status=ConsultationStatus.DRAFT,
        starts_at=body.starts_at.timestamp(),
        ends_at=body.ends_at.timestamp(),
        created_by=actor,
        created_at=epoch(),
    )
    session.add(c)
    await session.flush()
    await announce(session, ConsultationTopic.CREATED, c)
    return c


async def update(session: AsyncSession, c: Consultation, body: ConsultationIn, library: Library) -> None:
    if c.status != ConsultationStatus.DRAFT:
        raise Conflict("征集已发布，正文和期限不能再改")
    c.title = body.title
    c.summary = body.summary
    c.paragraphs = [p.model_dump() for p in body.paragraphs]
    c.attachments = await _attachments(c.site, body.attachments, library)
    c.starts_at = body.starts_at.timestamp()
    c.ends_at = body.ends_at.timestamp()


async def open_(session: AsyncSession, c: Consultation) -> None:
    if c.status != ConsultationStatus.DRAFT:
        raise Conflict(f"征集当前状态为 {c.status}，只有草稿可以发布")
    if c.ends_at <= epoch():
        raise Conflict("截止时间已过，请先修改期限")
    c.status = ConsultationStatus.OPEN
    c.opened_at = epoch()
    await announce(session, ConsultationTopic.OPENED, c)


async def close(session: AsyncSession, c: Consultation) -> None:
    """Closing before the end shortens it: the end becomes now, for everyone alike."""
    await settle(session, c)
    if c.status != ConsultationStatus.OPEN:
        raise Conflict(f"征集当前状态为 {c.status}，不能结束")
    c.ends_at = min(c.ends_at, epoch())
    await settle(session, c)


async def withdraw(session: AsyncSession, c: Consultation, actor: str, reason: str) -> None:
    """Off the public pages and out of site search (the event carries no `listing`); kept."""
    if c.status == ConsultationStatus.DRAFT:
        raise Conflict("草稿尚未发布，无需撤回")
    if c.status == ConsultationStatus.WITHDRAWN:
        raise Conflict("征集已撤回")
    c.status = ConsultationStatus.WITHDRAWN
    c.withdrawn_at, c.withdrawn_by, c.withdrawn_reason = epoch(), actor, reason
    await announce(session, ConsultationTopic.WITHDRAWN, c)


async def staff_consultation(session: AsyncSession, cid: int, principal: Principal | None) -> Consultation:
    c = await session.get(Consultation, cid)
    if c is None or not can_read(principal, c.site):
        raise NotFound(f"意见征集 {cid} 不存在")
    return await settle(session, c)


async def public_consultation(session: AsyncSession, cid: int, site: str) -> Consultation:
    c = await session.get(Consultation, cid)
    if c is None or c.site != site or c.status in NOT_PUBLIC:
        raise NotFound(f"意见征集 {cid} 不存在")
    return await settle(session, c)


async def comment(
    session: AsyncSession, c: Consultation, body: CommentIn, principal: Principal, review: Review
) -> ConsultationComment:
    if not accepting(c):
        raise Conflict("征集不在意见征集期内，不能提交意见", extra={"status": c.status})
    if body.anchor not in {p["anchor"] for p in c.paragraphs}:
        raise ValidationFailed.field("anchor", f"征集稿中没有编号为 {body.anchor} 的段落")
    blocking, findings = await review(body.body)
    public_body, redactions = redact("body", body.body, [principal.name] if principal.name else [])
    row = ConsultationComment(
        consultation_id=c.id or 0,
        site=c.site,
        anchor=body.anchor,
        body=body.body,
        author_sub=principal.sub,
        status=CommentStatus.BLOCKED if blocking else CommentStatus.PENDING,
        findings=findings,
        submitted_at=epoch(),
        public_body=public_body,
        redactions=[r.__dict__ for r in redactions],
    )
    session.add(row)
    await session.flush()
    topic = ConsultationTopic.COMMENT_BLOCKED if blocking else ConsultationTopic.COMMENT_RECEIVED
    await announce(session, topic, c, comment_id=row.id, anchor=row.anchor)
    return row


async def moderated_comment(
    session: AsyncSession, comment_id: int, principal: Principal
) -> tuple[ConsultationComment, Consultation]:
    """A comment its site's moderators may act on; blocked ones never reach a person."""
    row = await session.get(ConsultationComment, comment_id)
    if row is None or row.status == CommentStatus.BLOCKED or not holds(principal, row.site, MODERATOR_ROLES):
        raise NotFound(f"意见 {comment_id} 不存在")
    c = await session.get(Consultation, row.consultation_id)
    assert c is not None
    return row, c


async def moderate(
    session: AsyncSession, row: ConsultationComment, c: Consultation, approve: bool, note: str, actor: str
) -> None:
    if row.status != CommentStatus.PENDING:
        raise Conflict(f"意见当前状态为 {row.status}，已审核过")
    row.status = CommentStatus.APPROVED if approve else CommentStatus.REJECTED
    row.moderated_by = actor
    row.moderated_at = epoch()
    row.moderation_note = note
    if approve:
        row.published_at = row.moderated_at
    topic = ConsultationTopic.COMMENT_APPROVED if approve else ConsultationTopic.COMMENT_REJECTED
    await announce(session, topic, c, comment_id=row.id, anchor=row.anchor)


async def comment_counts(session: AsyncSession, cid: int) -> tuple[dict[CommentStatus, int], dict[str, int]]:
    """The one count of a consultation's comments — by status, and published ones by paragraph —
    behind the public page, the staff view and the feedback report alike."""
    by_status = {s: 0 for s in CommentStatus}
    by_anchor: dict[str, int] = {}
    rows = await session.execute(
        select(col(ConsultationComment.status), col(ConsultationComment.anchor), func.count())
        .where(col(ConsultationComment.consultation_id) == cid)
        .group_by(col(ConsultationComment.status), col(ConsultationComment.anchor))
    )
    for status, anchor, n in rows.all():
        by_status[CommentStatus(status)] += n
        if status == CommentStatus.APPROVED:
            by_anchor[anchor] = n
    return by_status, by_anchor


async def comments_page(
    session: AsyncSession,
    cid: int,
    status: CommentStatus,
    after: int,
    size: int,
    anchor: str | None = None,
    author: str | None = None,
) -> tuple[list[ConsultationComment], int | None]:
    """Keyset page on (consultation, status, id): no OFFSET, no count."""
    stmt = select(ConsultationComment).where(
        col(ConsultationComment.consultation_id) == cid, col(ConsultationComment.id) > after
    )
    if author is None:
        stmt = stmt.where(col(ConsultationComment.status) == status)
    else:
        stmt = stmt.where(col(ConsultationComment.author_sub) == author)
    if anchor is not None:
        stmt = stmt.where(col(ConsultationComment.anchor) == anchor)
    if author is None and status == CommentStatus.APPROVED:  # the public page reads only what it shows
        stmt = stmt.options(
            load_only(
                ConsultationComment.id,  # type: ignore[arg-type]
                ConsultationComment.anchor,  # type: ignore[arg-type]
                ConsultationComment.public_body,  # type: ignore[arg-type]
                ConsultationComment.published_at,  # type: ignore[arg-type]
                ConsultationComment.redactions,  # type: ignore[arg-type]
                raiseload=True,
            )
        )
    rows = list((await session.execute(stmt.order_by(col(ConsultationComment.id)).limit(size + 1))).scalars())
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


async def publish_feedback(
    session: AsyncSession, c: Consultation, body: FeedbackIn, library: Library
) -> None:
    """Every published comment is answered exactly once (alone or grouped with others)."""
    if c.status != ConsultationStatus.CLOSED:
        raise Conflict(f"征集当前状态为 {c.status}，须在征集结束后发布反馈")
    published = await session.execute(
        select(col(ConsultationComment.id)).where(
            col(ConsultationComment.consultation_id) == c.id,
            col(ConsultationComment.status) == CommentStatus.APPROVED,
        )
    )
    approved = {int(i) for i in published.scalars() if i is not None}
    pending = (await comment_counts(session, c.id or 0))[0][CommentStatus.PENDING]
    if pending:
        raise Conflict(f"还有 {pending} 条意见未审核，审核完毕后才能发布反馈")
    seen: set[int] = set()
    for i, item in enumerate(body.items):
        for cid in item.comment_ids:
            if cid not in approved:
                raise ValidationFailed.field(f"items.{i}.comment_ids", f"意见 {cid} 不是本征集已公开的意见")
            if cid in seen:
                raise ValidationFailed.field(f"items.{i}.comment_ids", f"意见 {cid} 已在前面的条目中答复")
            seen.add(cid)
    missing = sorted(approved - seen)
    if missing:
        shown = "、".join(map(str, missing[:20]))
        raise ValidationFailed.field("items", f"以下已公开的意见未作答复：{shown}")
    c.final_title = await library(
        c.site, body.final_resource_id, body.final_resource_version, "final_resource_id"
    )
    c.final_resource_id = body.final_resource_id
    c.final_resource_version = body.final_resource_version
    c.feedback = {
        "summary": body.summary,
        "items": [
            {"comment_ids": i.comment_ids, "decision": Decision(i.decision).value, "reason": i.reason}
            for i in body.items
        ],
    }
    c.status = ConsultationStatus.FEEDBACK_PUBLISHED
    c.feedback_published_at = epoch()
    await announce(
        session,
        ConsultationTopic.FEEDBACK_PUBLISHED,
        c,
        final_resource_id=c.final_resource_id,
        final_resource_version=c.final_resource_version,
    )
