"""An online interview's life: scheduled → live → ended → archived.

Citizens (signed in through unified identity) ask before and during; a question passes the
resources service's machine review, then the host or the site's staff approve or reject it.
Only an approved question — redacted of personal data — becomes a stream entry; guests answer,
the host writes notes. Entries are numbered per interview in commit order; the live stream
(service/livestream.py) and the transcript both read them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Interview, InterviewEntry, InterviewQuestion, feed_tables
from services.interaction.schemas.interviews import (
    FINISHED,
    OPEN_FOR_QUESTIONS,
    AnswerIn,
    EntryKind,
    InterviewIn,
    InterviewStatus,
    InterviewTopic,
    MediaIn,
    NoteIn,
    QuestionStatus,
)
from services.interaction.service.listing import interview_listing
from services.interaction.service.livestream import StreamHub, wake_after_commit
from services.interaction.service.redaction import redact
from services.interaction.service.review import Review
from services.interaction.service.staff import StaffLookup
from services.interaction.service.throttle import Throttle
from services.kernel.access import holds
from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound, ReviewBlocked, ValidationFailed
from services.kernel.feed import emit
from services.kernel.roles import Role

Wake = Callable[[int], None]
# site -> the site's columns as content lists them to staff ({"id", "name", "code", ...})
ColumnsLookup = Callable[[str], Awaitable[list[dict[str, Any]]]]


@dataclass
class InterviewRuntime:
    """What interviews keep in the service's state: the stream hub of this process, the
    identity lookup of guests and hosts, the per-citizen question throttle, and content's column
    list with the name or code of the column transcripts go to when an interview names none."""

    hub: StreamHub
    staff: StaffLookup
    throttle: Throttle
    columns: ColumnsLookup
    transcript_column: str


MODERATOR_ROLES = (Role.SITE_ADMIN, Role.EDITOR, Role.REVIEWER)
MANAGER_ROLES = (Role.SITE_ADMIN, Role.EDITOR)
PUBLIC_ASKER = "网友"
# What may follow what; `archived` only once the interview has ended.
_NEXT = {
    InterviewStatus.LIVE: (InterviewStatus.SCHEDULED,),
    InterviewStatus.ENDED: (InterviewStatus.LIVE,),
    InterviewStatus.ARCHIVED: (InterviewStatus.ENDED,),
}
_TOPIC = {
    InterviewStatus.LIVE: InterviewTopic.LIVE,
    InterviewStatus.ENDED: InterviewTopic.ENDED,
    InterviewStatus.ARCHIVED: InterviewTopic.ARCHIVED,
}


def _person(account_name: str, user_id: int, title: str) -> dict[str, Any]:
    return {"user_id": user_id, "name": account_name, "title": title}


async def schedule(
    session: AsyncSession, site: str, body: InterviewIn, actor: str, staff: StaffLookup
) -> Interview:
    people: list[dict[str, Any]] = []
    for where, person in [("host", body.host), *((f"guests.{i}", g) for i, g in enumerate(body.guests))]:
        account = await staff(person.user_id)
        if account is None:
            raise ValidationFailed.field(f"{where}.user_id", f"用户 {person.user_id} 不存在")
        if not account.works_on(site):
            raise ValidationFailed.field(
                f"{where}.user_id", f"用户 {person.user_id} 不是站点 {site} 的在职工作人员（须有本站角色）"
            )
        people.append(_person(account.name, person.user_id, person.title))
    interview = Interview(
        site=site,
        title=body.title,
        summary=body.summary,
        status=InterviewStatus.SCHEDULED,
        starts_at=body.starts_at.timestamp(),
        ends_at=body.ends_at.timestamp(),
        host=people[0],
        guests=people[1:],
        column_id=body.column_id,
        created_by=actor,
        created_at=epoch(),
    )
    session.add(interview)
    await session.flush()
    await announce(session, InterviewTopic.CREATED, interview)
    return interview


async def announce(session: AsyncSession, topic: InterviewTopic, interview: Interview) -> None:
    """References (ids, state, site, the stream's position) and the interview's public face for
    site search (`listing`); never a question or an asker."""
    await emit(
        session,
        feed_tables,
        topic,
        interview.id or 0,
        {
            "interview_id": interview.id,
            "status": interview.status,
            "last_event_id": interview.last_seq,
            "listing": interview_listing(interview),
        },
        site_id=interview.site,
    )


async def get_interview(session: AsyncSession, interview_id: int, site: str) -> Interview:
    """Interviews are public from the moment they are scheduled, but only on their own site."""
    interview = await session.get(Interview, interview_id)
    if interview is None or interview.site != site:
        raise NotFound(f"访谈 {interview_id} 不存在")
    return interview


def _sub(interview: Interview, who: dict[str, Any]) -> str:
    return str(who["user_id"])


def is_host(principal: Principal | None, interview: Interview) -> bool:
    return (
        principal is not None
        and principal.kind == "user"
        and principal.sub == _sub(interview, interview.host)
    )


def guest_of(principal: Principal | None, interview: Interview) -> dict[str, Any] | None:
    if principal is None or principal.kind != "user":
        return None
    return next((g for g in interview.guests if principal.sub == _sub(interview, g)), None)


def may_moderate(principal: Principal | None, interview: Interview) -> bool:
    return is_host(principal, interview) or holds(principal, interview.site, MODERATOR_ROLES)


def require_moderator(principal: Principal | None, interview: Interview) -> None:
    if not may_moderate(principal, interview):
        raise Forbidden("只有主持人或本站编辑、审核人员可以审核问题")


def require_manager(principal: Principal | None, interview: Interview) -> None:
    if not (is_host(principal, interview) or holds(principal, interview.site, MANAGER_ROLES)):
        raise Forbidden("只有主持人或本站编辑、站点管理员可以变更访谈状态")


async def append_entry(
    session: AsyncSession, interview: Interview, wake: Wake, kind: EntryKind, **fields: Any
) -> InterviewEntry:
    """The next stream entry. The counter is bumped by one UPDATE … RETURNING, which takes the
    interview's row lock (PostgreSQL) or the write lock (SQLite) first, so two writers of one
    interview commit their entries in number order and no publisher can see 7 before 6."""
    seq = (
        await session.execute(
            update(Interview)
            .where(col(Interview.id) == interview.id)
            .values(last_seq=col(Interview.last_seq) + 1)
            .returning(col(Interview.last_seq))
        )
    ).scalar_one()
    interview.last_seq = seq
    assert interview.id is not None
    entry = InterviewEntry(interview_id=interview.id, seq=seq, kind=kind, at=epoch(), **fields)
    session.add(entry)
    await session.flush()
    wake_after_commit(session, wake, interview.id)
    return entry


async def transition(
    session: AsyncSession, interview: Interview, to: InterviewStatus, actor: str, wake: Wake
) -> None:
    if interview.status not in _NEXT[to]:
        raise Conflict(f"访谈当前为 {interview.status}，不能变为 {to}")
    now = epoch()
    interview.status = to
    if to == InterviewStatus.LIVE:
        interview.started_at = now
    elif to == InterviewStatus.ENDED:
        interview.ended_at = now
    else:
        interview.archived_at = now
    if to != InterviewStatus.ARCHIVED:  # the stream ends with `ended`; archiving only files it
        await append_entry(session, interview, wake, EntryKind.STATE, text=to.value, author_sub=actor)
    await announce(session, _TOPIC[to], interview)


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


async def entries(session: AsyncSession, interview_id: int, after: int, limit: int) -> list[InterviewEntry]:
    stmt = (
        select(InterviewEntry)
        .where(col(InterviewEntry.interview_id) == interview_id, col(InterviewEntry.seq) > after)
        .order_by(col(InterviewEntry.seq))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


def finished(interview: Interview) -> bool:
    return interview.status in FINISHED
