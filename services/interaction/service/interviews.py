"""An online interview's life: scheduled → live → ended → archived.

Citizens (signed in through unified identity) ask before and during; a question passes the
resources service's machine review, then the host or the site's staff approve or reject it.
Only an approved question — redacted of personal data — becomes a stream entry; guests answer,
the host writes notes. Entries are numbered per interview in commit order; the live stream
(service/livestream.py) and the transcript both read them. This module holds the interview
itself (schedule, roles, state, entries, withdrawal); questions are in interview_questions.py,
guests' answers and the host's notes in interview_posts.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Interview, InterviewEntry, feed_tables
from services.interaction.schemas.interviews import (
    FINISHED,
    EntryKind,
    InterviewIn,
    InterviewStatus,
    InterviewTopic,
    TranscriptState,
)
from services.interaction.service.listing import interview_listing
from services.interaction.service.livestream import StreamHub, wake_after_commit
from services.interaction.service.staff import StaffLookup
from services.interaction.service.throttle import Throttle
from services.kernel.access import holds
from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
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
            **({"listing": listing} if (listing := interview_listing(interview)) else {}),
        },
        site_id=interview.site,
    )


async def get_interview(session: AsyncSession, interview_id: int, site: str) -> Interview:
    """Interviews are public from the moment they are scheduled until withdrawn, only on their own site."""
    interview = await session.get(Interview, interview_id)
    if interview is None or interview.site != site or interview.status == InterviewStatus.WITHDRAWN:
        raise NotFound(f"访谈 {interview_id} 不存在")
    return interview


async def withdraw(session: AsyncSession, interview: Interview, actor: str, reason: str) -> None:
    """Off the public pages, its stream and site search; questions and entries are kept. A live
    interview is ended first, so that its readers are told it is over."""
    if interview.status == InterviewStatus.LIVE:
        raise Conflict("访谈正在直播，请先结束直播再撤回")
    interview.status = InterviewStatus.WITHDRAWN
    interview.withdrawn_at, interview.withdrawn_by, interview.withdrawn_reason = epoch(), actor, reason
    if interview.transcript_state == TranscriptState.PENDING:  # not yet in content: it stays out
        interview.transcript_state = TranscriptState.FAILED
        interview.transcript_next_at = None
        interview.transcript_error = "访谈已撤回，实录不再发布"
    await announce(session, InterviewTopic.WITHDRAWN, interview)


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
