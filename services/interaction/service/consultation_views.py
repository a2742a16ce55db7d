"""Consultations as their readers see them: the public, the site's staff, a comment's author."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Consultation, ConsultationComment
from services.interaction.schemas import RedactionOut
from services.interaction.schemas.consultations import (
    AttachmentOut,
    CommentOut,
    CommentStatus,
    ConsultationOut,
    ConsultationStaffOut,
    ConsultationStatus,
    ConsultationSummaryOut,
    Decision,
    FeedbackItemOut,
    FeedbackOut,
    FinalPolicyOut,
    OwnCommentOut,
    ParagraphOut,
)
from services.interaction.service.consultations import NOT_PUBLIC, accepting, comment_counts, settle
from services.kernel.clock import epoch


def _feedback(c: Consultation) -> FeedbackOut | None:
    if c.status != ConsultationStatus.FEEDBACK_PUBLISHED or c.final_resource_id is None:
        return None
    assert c.final_resource_version is not None and c.feedback_published_at is not None
    items = [FeedbackItemOut(**i) for i in c.feedback.get("items", [])]
    counts = {d: 0 for d in Decision}
    for item in items:
        counts[item.decision] += len(item.comment_ids)
    return FeedbackOut(
        summary=c.feedback.get("summary", ""),
        items=items,
        counts=counts,
        final_policy=FinalPolicyOut(
            resource_id=c.final_resource_id,
            resource_version=c.final_resource_version,
            title=c.final_title,
            url=f"/api/resources/v1/resources/{c.final_resource_id}/versions/{c.final_resource_version}",
        ),
        published_at=c.feedback_published_at,
    )


async def consultation_out(session: AsyncSession, c: Consultation, staff: bool = False) -> ConsultationOut:
    assert c.id is not None
    by_status, by_anchor = await comment_counts(session, c.id)
    fields = {
        "id": c.id,
        "site": c.site,
        "title": c.title,
        "summary": c.summary,
        "status": ConsultationStatus(c.status),
        "accepting": accepting(c),
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "paragraphs": [
            ParagraphOut(anchor=p["anchor"], text=p["text"], comments=by_anchor.get(p["anchor"], 0))
            for p in c.paragraphs
        ],
        "attachments": [AttachmentOut(**a) for a in c.attachments],
        "published_comments": by_status[CommentStatus.APPROVED],
        "feedback": _feedback(c),
    }
    if not staff:
        return ConsultationOut(**fields)
    return ConsultationStaffOut(
        **fields,
        pending_comments=by_status[CommentStatus.PENDING],
        blocked_comments=by_status[CommentStatus.BLOCKED],
        created_by=c.created_by,
        withdrawn_reason=c.withdrawn_reason,
    )


def summary_out(c: Consultation) -> ConsultationSummaryOut:
    assert c.id is not None
    return ConsultationSummaryOut(
        id=c.id,
        title=c.title,
        status=ConsultationStatus(c.status),
        accepting=accepting(c),
        starts_at=c.starts_at,
        ends_at=c.ends_at,
    )


def comment_out(row: ConsultationComment) -> CommentOut:
    assert row.id is not None
    return CommentOut(
        id=row.id,
        anchor=row.anchor,
        body=row.public_body or "",
        published_at=row.published_at,
        redactions=[RedactionOut(**r) for r in row.redactions],
    )


def own_comment_out(row: ConsultationComment) -> OwnCommentOut:
    assert row.id is not None
    return OwnCommentOut(
        id=row.id,
        consultation_id=row.consultation_id,
        anchor=row.anchor,
        body=row.body,
        status=CommentStatus(row.status),
        submitted_at=row.submitted_at,
        review_rules=sorted({str(f.get("rule", "")) for f in row.findings if f.get("rule")}),
        moderation_note=row.moderation_note,
        public_body=row.public_body if row.status == CommentStatus.APPROVED else None,
    )


async def consultations_page(
    session: AsyncSession,
    site: str,
    before: int | None,
    size: int,
    q: str | None,
    status: ConsultationStatus | None,
    include_drafts: bool,
) -> tuple[list[Consultation], int | None]:
    """Newest first by keyset on (site, id); `q` filters titles."""
    stmt = select(Consultation).where(col(Consultation.site) == site)
    if not include_drafts:
        stmt = stmt.where(col(Consultation.status).not_in(NOT_PUBLIC))
    if status == ConsultationStatus.OPEN:  # as the clock says, whether or not anyone settled it yet
        stmt = stmt.where(col(Consultation.status) == status, col(Consultation.ends_at) > epoch())
    elif status == ConsultationStatus.CLOSED:
        stmt = stmt.where(
            or_(
                col(Consultation.status) == status,
                and_(
                    col(Consultation.status) == ConsultationStatus.OPEN, col(Consultation.ends_at) <= epoch()
                ),
            )
        )
    elif status is not None:
        stmt = stmt.where(col(Consultation.status) == status)
    if before is not None:
        stmt = stmt.where(col(Consultation.id) < before)
    if q:
        stmt = stmt.where(col(Consultation.title).contains(q, autoescape=True))
    rows = list((await session.execute(stmt.order_by(col(Consultation.id).desc()).limit(size + 1))).scalars())
    more = len(rows) > size
    rows = [await settle(session, c) for c in rows[:size]]
    return rows, (rows[-1].id if more and rows else None)
