"""Letters as their readers see them: handlers and writers, the public, the inbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Letter, LetterEvent
from services.interaction.schemas import (
    AttachmentOut,
    EventOut,
    InboxItemOut,
    LetterOut,
    PublicLetterOut,
    RedactionOut,
)
from services.interaction.service.deadlines import deadline_out, is_overdue
from services.interaction.vocab import (
    Complexity,
    DeadlineState,
    LetterAction,
    LetterKind,
    LetterStatus,
    RatingLevel,
)
from services.kernel.pagination import PageParams, paginate
from services.kernel.workdays import WorkCalendar


def _detail(detail: dict[str, object]) -> dict[str, str | int | None]:
    return {k: v if isinstance(v, str | int) or v is None else str(v) for k, v in detail.items()}


async def letter_out(session: AsyncSession, letter: Letter, calendar: WorkCalendar) -> LetterOut:
    events = (
        await session.execute(
            select(LetterEvent).where(col(LetterEvent.letter_id) == letter.id).order_by(col(LetterEvent.id))
        )
    ).scalars()
    assert letter.id is not None
    return LetterOut(
        id=letter.id,
        site=letter.site,
        kind=LetterKind(letter.kind),
        recipient=letter.recipient,
        status=LetterStatus(letter.status),
        complexity=Complexity(letter.complexity),
        title=letter.title,
        body=letter.body,
        attachments=[AttachmentOut(**a) for a in letter.attachments],
        writer_name=letter.writer_name,
        anonymous=letter.writer_sub is None or not letter.writer_name,
        publish_consent=letter.publish_consent,
        handling_org=letter.handling_org,
        refusal_reason=letter.refusal_reason,
        refusal_note=letter.refusal_note,
        reply=letter.reply,
        received_at=letter.received_at,
        replied_at=letter.replied_at,
        deadline=deadline_out(letter, calendar),
        rating=RatingLevel(letter.rating) if letter.rating else None,
        review_rules=sorted({str(f.get("rule", "")) for f in letter.findings}),
        events=[
            EventOut(at=e.at, action=LetterAction(e.action), actor=e.actor, detail=_detail(e.detail))
            for e in events
        ],
    )


def public_out(letter: Letter) -> PublicLetterOut:
    assert letter.id is not None
    public = letter.public
    return PublicLetterOut(
        id=letter.id,
        site=letter.site,
        kind=LetterKind(letter.kind),
        title=public["title"],
        body=public["body"],
        attachments=[AttachmentOut(**a) for a in public["attachments"]],
        reply=public["reply"],
        handling_org=letter.handling_org,
        received_at=letter.received_at,
        replied_at=letter.replied_at,
        published_at=letter.published_at,
        rating=RatingLevel(letter.rating) if letter.rating else None,
        redactions=[RedactionOut(**r) for r in letter.redactions],
    )


def inbox_item(letter: Letter) -> InboxItemOut:
    assert letter.id is not None
    return InboxItemOut(
        id=letter.id,
        kind=LetterKind(letter.kind),
        status=LetterStatus(letter.status),
        title=letter.title,
        handling_org=letter.handling_org,
        received_at=letter.received_at,
        deadline_state=DeadlineState(letter.deadline_state),
        due_on=letter.due_on,
        overdue=is_overdue(letter),
    )


async def public_page(
    session: AsyncSession, site: str, params: PageParams, q: str | None, kind: LetterKind | None
) -> tuple[list[Letter], int]:
    """Published letters of a site, newest first; `q` searches the redacted texts only."""
    stmt = select(Letter).where(col(Letter.site) == site, col(Letter.status) == LetterStatus.PUBLISHED)
    if kind is not None:
        stmt = stmt.where(col(Letter.kind) == kind)
    if q:
        # The redacted rendering, never the original text (which holds the personal data).
        stmt = stmt.where(col(Letter.public_text).contains(q, autoescape=True))
    return await paginate(
        session, stmt.order_by(col(Letter.published_at).desc(), col(Letter.id).desc()), params
    )


async def inbox_page(
    session: AsyncSession, site: str, params: PageParams, status: LetterStatus | None, overdue_only: bool
) -> tuple[list[Letter], int]:
    stmt = select(Letter).where(col(Letter.site) == site, col(Letter.status) != LetterStatus.SCREENED_OUT)
    if status is not None:
        stmt = stmt.where(col(Letter.status) == status)
    if overdue_only:
        stmt = stmt.where(col(Letter.overdue_at).is_not(None))
    return await paginate(session, stmt.order_by(col(Letter.id).desc()), params)
