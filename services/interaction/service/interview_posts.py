"""What the guests and the host write during a live interview: guests' answers (to an approved
question or not) and the host's notes, each machine-reviewed, then a stream entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.interaction.models import Interview, InterviewEntry, InterviewQuestion
from services.interaction.schemas.interviews import (
    AnswerIn,
    EntryKind,
    InterviewStatus,
    MediaIn,
    NoteIn,
    QuestionStatus,
)
from services.interaction.service.interviews import Wake, append_entry, guest_of, is_host
from services.interaction.service.review import Review
from services.kernel.auth import Principal
from services.kernel.errors import Conflict, Forbidden, ReviewBlocked, ValidationFailed


def _media(items: list[MediaIn]) -> list[dict[str, Any]]:
    """Stored as given: a URL is validated, never fetched (nothing here dials a tenant's URL);
    a library resource is kept as its id for the front end to place (store first, then use)."""
    return [
        {
            "kind": m.kind.value,
            "url": m.url,
            "resource_id": m.resource_id,
            "caption": m.caption,
        }
        for m in items
    ]


async def _reviewed(review: Review, text: str, media: list[MediaIn]) -> None:
    blocking, findings = await review("\n".join([text, *(m.caption for m in media)]))
    if blocking:
        rules = sorted(
            {str(f.get("rule", f.get("kind", ""))) for f in findings if f.get("severity") == "block"}
        )
        raise ReviewBlocked("机器审查未通过，内容未发布：" + "、".join(rules), extra={"findings": findings})


def _require_live(interview: Interview) -> None:
    if interview.status != InterviewStatus.LIVE:
        raise Conflict(f"访谈当前为 {interview.status}，只有直播中才能发布")


def _label(person: dict[str, Any], role: str) -> str:
    return f"{role} {person['name']}" + (f"（{person['title']}）" if person.get("title") else "")


async def answer(
    session: AsyncSession,
    interview: Interview,
    principal: Principal,
    body: AnswerIn,
    review: Review,
    wake: Wake,
) -> InterviewEntry:
    guest = guest_of(principal, interview)
    if guest is None:
        raise Forbidden("只有本场访谈的嘉宾可以答复")
    _require_live(interview)
    reply_to = None
    if body.question_id is not None:
        question = await session.get(InterviewQuestion, body.question_id)
        if (
            question is None
            or question.interview_id != interview.id
            or question.status != QuestionStatus.APPROVED
        ):
            raise ValidationFailed.field("question_id", f"问题 {body.question_id} 不是本场已发布的问题")
        reply_to = question.entry_seq
    await _reviewed(review, body.text, body.media)
    return await append_entry(
        session,
        interview,
        wake,
        EntryKind.ANSWER,
        author=_label(guest, "嘉宾"),
        author_sub=principal.sub,
        question_id=body.question_id,
        reply_to=reply_to,
        text=body.text,
        media=_media(body.media),
    )


async def note(
    session: AsyncSession,
    interview: Interview,
    principal: Principal,
    body: NoteIn,
    review: Review,
    wake: Wake,
) -> InterviewEntry:
    if not is_host(principal, interview):
        raise Forbidden("只有本场访谈的主持人可以发布主持词")
    _require_live(interview)
    await _reviewed(review, body.text, body.media)
    return await append_entry(
        session,
        interview,
        wake,
        EntryKind.NOTE,
        author=_label(interview.host, "主持人"),
        author_sub=principal.sub,
        text=body.text,
        media=_media(body.media),
    )
