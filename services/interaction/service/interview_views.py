"""Interviews as their readers see them: the public list and page, stream frames, transcript."""

from __future__ import annotations

import base64
import binascii

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Interview, InterviewEntry, InterviewQuestion
from services.interaction.schemas import RedactionOut
from services.interaction.schemas.interviews import (
    FINISHED,
    EntryKind,
    EntryOut,
    InterviewOut,
    InterviewStatus,
    MediaKind,
    MediaOut,
    PersonOut,
    QuestionOut,
    QuestionStatus,
    TranscriptOut,
    TranscriptPublicationOut,
    TranscriptState,
)
from services.interaction.service.interviews import entries
from services.interaction.service.livestream import Frame
from services.kernel.db import Database
from services.kernel.errors import NotFound, ValidationFailed
from services.kernel.pagination import PageParams, paginate

BASE = "/api/interaction/v1/public/interviews"
TRANSCRIPT_LIMIT = 20_000


def interview_out(interview: Interview) -> InterviewOut:
    assert interview.id is not None
    done = interview.status in FINISHED
    return InterviewOut(
        id=interview.id,
        site=interview.site,
        title=interview.title,
        summary=interview.summary,
        status=InterviewStatus(interview.status),
        starts_at=interview.starts_at,
        ends_at=interview.ends_at,
        host=PersonOut(**interview.host),
        guests=[PersonOut(**g) for g in interview.guests],
        started_at=interview.started_at,
        ended_at=interview.ended_at,
        archived_at=interview.archived_at,
        last_event_id=interview.last_seq,
        stream_url=f"{BASE}/{interview.id}/stream",
        transcript_url=f"{BASE}/{interview.id}/transcript" if done else None,
        column_id=interview.column_id,
        publication=_publication(interview),
    )


def _publication(interview: Interview) -> TranscriptPublicationOut | None:
    if interview.transcript_state is None or interview.transcript_column_id is None:
        return None
    return TranscriptPublicationOut(
        state=TranscriptState(interview.transcript_state),
        column_id=interview.transcript_column_id,
        resource_id=interview.transcript_resource_id,
        resource_version=interview.transcript_resource_version,
        publication_id=interview.transcript_publication_id,
        published_url=interview.transcript_published_url,
        attempts=interview.transcript_attempts,
    )


def entry_out(entry: InterviewEntry) -> EntryOut:
    return EntryOut(
        seq=entry.seq,
        kind=EntryKind(entry.kind),
        author=entry.author,
        text=entry.text,
        question_id=entry.question_id,
        reply_to=entry.reply_to,
        media=[MediaOut(**m) for m in entry.media],
        at=entry.at,
    )


def frame(entry: InterviewEntry) -> Frame:
    """One SSE message: `id` is the entry's number, `event` its kind, `data` one JSON line."""
    data = entry_out(entry).model_dump_json()
    final = entry.kind == EntryKind.STATE and entry.text == InterviewStatus.ENDED
    return Frame(entry.seq, f"id: {entry.seq}\nevent: {entry.kind}\ndata: {data}\n\n".encode(), final)


class DbEntrySource:
    """What each process's publisher reads: a short session per poll, never one per reader."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def head(self, interview_id: int) -> int:
        async with self.db.session() as session:
            value = await session.scalar(
                select(col(Interview.last_seq)).where(col(Interview.id) == interview_id)
            )
        return int(value or 0)

    async def after(self, interview_id: int, seq: int, limit: int) -> list[Frame]:
        async with self.db.session() as session:
            return [frame(e) for e in await entries(session, interview_id, seq, limit)]


def _cursor(interview: Interview) -> str:
    raw = orjson.dumps([interview.starts_at, interview.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, int]:
    try:
        starts_at, ident = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return float(starts_at), int(ident)
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        raise ValidationFailed.field("cursor", "游标无效：请使用上一页返回的 next_cursor") from None


async def public_list(
    session: AsyncSession,
    site: str,
    cursor: str | None,
    limit: int,
    status: InterviewStatus | None,
    q: str | None = None,
) -> tuple[list[Interview], str | None]:
    """Newest start first; the cursor is the last row's (start, id), so pages never shift."""
    stmt = select(Interview).where(
        col(Interview.site) == site, col(Interview.status) != InterviewStatus.WITHDRAWN
    )
    if status is not None:
        stmt = stmt.where(col(Interview.status) == status)
    if q:
        stmt = stmt.where(
            or_(
                col(Interview.title).contains(q, autoescape=True),
                col(Interview.summary).contains(q, autoescape=True),
            )
        )
    if cursor:
        starts_at, ident = _decode(cursor)
        stmt = stmt.where(
            or_(
                col(Interview.starts_at) < starts_at,
                and_(col(Interview.starts_at) == starts_at, col(Interview.id) < ident),
            )
        )
    stmt = stmt.order_by(col(Interview.starts_at).desc(), col(Interview.id).desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars().all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_cursor(rows[-1]) if more and rows else None)


def question_out(q: InterviewQuestion) -> QuestionOut:
    assert q.id is not None
    return QuestionOut(
        id=q.id,
        interview_id=q.interview_id,
        status=QuestionStatus(q.status),
        text=q.text,
        asker_name=q.asker_name,
        submitted_at=q.submitted_at,
        moderated_by=q.moderated_by,
        moderated_at=q.moderated_at,
        reason=q.reason,
        review_rules=sorted({str(f.get("rule", "")) for f in q.findings}),
        public_text=q.public_text,
        redactions=[RedactionOut(**r) for r in q.redactions],
        event_id=q.entry_seq,
    )


async def questions_page(
    session: AsyncSession, interview_id: int, status: QuestionStatus | None, params: PageParams
) -> tuple[list[InterviewQuestion], int]:
    stmt = select(InterviewQuestion).where(
        col(InterviewQuestion.interview_id) == interview_id,
        col(InterviewQuestion.status) != QuestionStatus.SCREENED_OUT,
    )
    if status is not None:
        stmt = stmt.where(col(InterviewQuestion.status) == status)
    return await paginate(session, stmt.order_by(col(InterviewQuestion.id)), params)


async def transcript(session: AsyncSession, interview: Interview) -> TranscriptOut:
    """The record after the end: every entry in stream order, and the media gathered."""
    if interview.status not in FINISHED:
        raise NotFound("访谈尚未结束，实录在结束后公开")
    assert interview.id is not None
    rows = await entries(session, interview.id, 0, TRANSCRIPT_LIMIT)
    items = [entry_out(e) for e in rows]
    media = [m for e in items for m in e.media]
    return TranscriptOut(
        interview=interview_out(interview),
        archived=interview.status == InterviewStatus.ARCHIVED,
        entries=items,
        images=[m for m in media if m.kind == MediaKind.IMAGE],
        videos=[m for m in media if m.kind == MediaKind.VIDEO],
        questions=sum(1 for e in items if e.kind == EntryKind.QUESTION),
        answers=sum(1 for e in items if e.kind == EntryKind.ANSWER),
    )
