"""Citizens' questions to an interview: asked before and during, machine-reviewed, then approved
(redacted, and only then a stream entry) or rejected by the host or the site's staff."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.interaction.models import Interview, InterviewQuestion
from services.interaction.schemas.interviews import OPEN_FOR_QUESTIONS, EntryKind, QuestionStatus
from services.interaction.service.interviews import Wake, append_entry
from services.interaction.service.redaction import redact
from services.interaction.service.review import Review
from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound

PUBLIC_ASKER = "网友"


def _dedupe(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


async def ask(
    session: AsyncSession, interview: Interview, principal: Principal, text: str, review: Review
) -> InterviewQuestion:
    if interview.status not in OPEN_FOR_QUESTIONS:
        raise Conflict("访谈已结束，不再征集问题")
    if principal.kind != "user":
        raise Forbidden("请以个人账号登录后提问")
    blocking, findings = await review(text)
    assert interview.id is not None
    question = InterviewQuestion(
        interview_id=interview.id,
        site=interview.site,
        status=QuestionStatus.SCREENED_OUT if blocking else QuestionStatus.PENDING,
        text=text,
        asker_sub=principal.sub,
        asker_name=principal.name,
        dedupe_key=_dedupe(text),
        findings=findings,
        submitted_at=epoch(),
    )
    try:
        async with session.begin_nested():
            session.add(question)
            await session.flush()
    except IntegrityError:
        raise Conflict("同样的问题已经提交过") from None
    return question


async def moderated_question(
    session: AsyncSession, interview: Interview, question_id: int
) -> InterviewQuestion:
    """A question the moderators work on; screened-out ones never reach a person."""
    question = await session.get(InterviewQuestion, question_id)
    if (
        question is None
        or question.interview_id != interview.id
        or question.status == QuestionStatus.SCREENED_OUT
    ):
        raise NotFound(f"问题 {question_id} 不存在")
    return question


async def approve(
    session: AsyncSession, interview: Interview, question: InterviewQuestion, actor: str, wake: Wake
) -> None:
    if question.status != QuestionStatus.PENDING:
        raise Conflict(f"问题当前为 {question.status}，只能审核待审问题")
    if interview.status not in OPEN_FOR_QUESTIONS:
        raise Conflict("访谈已结束，不能再发布问题")
    public, found = redact("text", question.text, [question.asker_name] if question.asker_name else [])
    question.public_text = public
    question.redactions = [r.__dict__ for r in found]
    question.status = QuestionStatus.APPROVED
    question.moderated_by = actor
    question.moderated_at = epoch()
    entry = await append_entry(
        session,
        interview,
        wake,
        EntryKind.QUESTION,
        author=PUBLIC_ASKER,
        question_id=question.id,
        text=public,
    )
    question.entry_seq = entry.seq


async def reject(session: AsyncSession, question: InterviewQuestion, reason: str, actor: str) -> None:
    if question.status != QuestionStatus.PENDING:
        raise Conflict(f"问题当前为 {question.status}，只能审核待审问题")
    question.status = QuestionStatus.REJECTED
    question.reason = reason
    question.moderated_by = actor
    question.moderated_at = epoch()
