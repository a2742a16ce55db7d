"""Online interviews as the public meets them: the list, one interview's page, its transcript
and the live text stream (Server-Sent Events, resumable with Last-Event-ID)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette import EventSourceResponse

from services.interaction.schemas.interviews import (
    InterviewOut,
    InterviewPage,
    InterviewStatus,
    TranscriptOut,
)
from services.interaction.service import interviews
from services.interaction.service.interview_views import DbEntrySource, interview_out, public_list, transcript
from services.interaction.service.livestream import PAGE
from services.interaction.settings import InteractionSettings
from services.interaction.state import StateDep
from services.kernel.deps import CtxDep, RequiredSiteDep, SessionDep
from services.kernel.errors import NotFound, ServiceUnavailable, ValidationFailed, problem_responses
from services.kernel.params import MAX_ID, IdPath

router = APIRouter(tags=["interviews"])
PUBLIC = problem_responses(NotFound, ValidationFailed)
# At most this many entries in one answer to a client that does not follow live.
BACKLOG_PAGES = 40
# Sent first: how long EventSource waits before reconnecting after a drop.
RETRY = b"retry: 2000\n\n"


@router.get(
    "/public/interviews",
    response_model=InterviewPage,
    summary="本站在线访谈（按开始时间倒序）",
    responses=PUBLIC,
)
async def list_interviews(
    site: RequiredSiteDep,
    session: SessionDep,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=200, description="上一页的 next_cursor")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    status: Annotated[InterviewStatus | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50, description="在标题与简介中检索")] = None,
) -> InterviewPage:
    rows, next_cursor = await public_list(session, site, cursor, limit, status, q)
    return InterviewPage(items=[interview_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/public/interviews/{interview_id}", response_model=InterviewOut, summary="一场访谈", responses=PUBLIC
)
async def read_interview(interview_id: IdPath, site: RequiredSiteDep, session: SessionDep) -> InterviewOut:
    return interview_out(await interviews.get_interview(session, interview_id, site))


@router.get(
    "/public/interviews/{interview_id}/transcript",
    response_model=TranscriptOut,
    summary="访谈实录（结束后公开：问答、主持词、图片与视频链接，按时间顺序）",
    responses=PUBLIC,
)
async def read_transcript(interview_id: IdPath, site: RequiredSiteDep, session: SessionDep) -> TranscriptOut:
    return await transcript(session, await interviews.get_interview(session, interview_id, site))


async def _backlog(source: DbEntrySource, interview_id: int, after: int) -> AsyncIterator[bytes]:
    yield RETRY
    for _ in range(BACKLOG_PAGES):
        frames = await source.after(interview_id, after, PAGE)
        if not frames:
            return
        yield b"".join(f.data for f in frames)
        after = frames[-1].seq


async def _live(first: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield RETRY
    async for chunk in first:
        yield chunk


@router.get(
    "/public/interviews/{interview_id}/stream",
    response_model=None,
    response_class=EventSourceResponse,
    summary="文字直播（Server-Sent Events；断线后凭 Last-Event-ID 续传）",
    description=(
        "`Accept: text/event-stream` 且访谈未结束时持续推送：已通过的问题（question）、嘉宾答复（answer）、"
        "主持词（note）、状态（state），事件 `id` 单调递增，`data` 为 EntryOut；其余请求只返回已有事件后结束。"
        "访谈结束且没有更多事件时答 204（EventSource 据此停止重连）。"
    ),
    responses={
        200: {"description": "事件流", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        204: {"description": "访谈已结束，没有更多事件"},
        **problem_responses(NotFound, ValidationFailed, ServiceUnavailable),
    },
)
async def stream(
    interview_id: IdPath,
    request: Request,
    site: RequiredSiteDep,
    state: StateDep,
    ctx: CtxDep,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=MAX_ID)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="无法设置请求头时代替 Last-Event-ID")
    ] = None,
) -> Response:
    # Its own short session, given back before waiting on the publisher (which needs one too):
    # a request's session would hold a pooled connection for as long as the stream lasts.
    async with ctx.db.session() as session:
        interview = await interviews.get_interview(session, interview_id, site)
    assert interview.id is not None
    since = last_event_id if last_event_id is not None else (after or 0)
    settings = ctx.settings
    assert isinstance(settings, InteractionSettings)
    if interviews.finished(interview) and since >= interview.last_seq:
        return Response(status_code=204)
    follows = "text/event-stream" in request.headers.get("accept", "")
    if follows and not interviews.finished(interview):
        body = _live(await state.interviews.hub.follow(interview.id, since))
    else:
        body = _backlog(DbEntrySource(ctx.db), interview.id, since)
    return EventSourceResponse(
        body,
        ping=settings.interview_stream_ping_seconds,
        send_timeout=settings.interview_stream_send_timeout,
        headers={"Cache-Control": "no-cache, no-store"},
    )
