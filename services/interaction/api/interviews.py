"""Online interviews: scheduling and moderation for the site's staff, questions from citizens,
guests' answers and host's notes (the public pages and the live stream: interview_public.py)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.interaction.schemas import WithdrawIn
from services.interaction.schemas.interviews import (
    AnswerIn,
    EntryOut,
    InterviewIn,
    InterviewOut,
    InterviewStatus,
    NoteIn,
    QuestionIn,
    QuestionOut,
    QuestionPage,
    QuestionReceiptOut,
    QuestionStatus,
    RejectIn,
)
from services.interaction.service import interview_posts, interview_questions, interviews, transcripts
from services.interaction.service.interview_views import (
    entry_out,
    interview_out,
    question_out,
    questions_page,
)
from services.interaction.state import StateDep
from services.kernel.access import require_write
from services.kernel.deps import PageDep, PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ReviewBlocked,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.params import IdPath

router = APIRouter(tags=["interviews"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)
PUBLIC = problem_responses(NotFound, ValidationFailed)
# At most this many entries in one answer to a client that does not follow live.
BACKLOG_PAGES = 40
# Sent first: how long EventSource waits before reconnecting after a drop.
RETRY = b"retry: 2000\n\n"


@router.post(
    "/interviews",
    status_code=201,
    response_model=InterviewOut,
    summary="安排一场在线访谈（嘉宾与主持人须为本站工作人员）",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, ValidationFailed, ServiceUnavailable),
)
async def schedule(
    body: InterviewIn, site: RequiredSiteDep, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> InterviewOut:
    require_write(principal, site, "站点")
    if body.column_id is not None and body.column_id not in {
        c.get("id") for c in await state.interviews.columns(site)
    }:
        raise ValidationFailed.field("column_id", f"栏目 {body.column_id} 不是本站栏目")
    interview = await interviews.schedule(session, site, body, principal.sub, state.interviews.staff)
    return interview_out(interview)


async def _change(
    interview_id: int, to: InterviewStatus, site: str, session: Any, state: Any, principal: Any
) -> InterviewOut:
    interview = await interviews.get_interview(session, interview_id, site)
    interviews.require_manager(principal, interview)
    await interviews.transition(session, interview, to, principal.sub, state.interviews.hub.wake)
    return interview_out(interview)


@router.post(
    "/interviews/{interview_id}/start", response_model=InterviewOut, summary="开始直播", responses=ERRORS
)
async def start(
    interview_id: IdPath, site: RequiredSiteDep, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> InterviewOut:
    return await _change(interview_id, InterviewStatus.LIVE, site, session, state, principal)


@router.post(
    "/interviews/{interview_id}/end", response_model=InterviewOut, summary="结束直播", responses=ERRORS
)
async def end(
    interview_id: IdPath, site: RequiredSiteDep, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> InterviewOut:
    return await _change(interview_id, InterviewStatus.ENDED, site, session, state, principal)


@router.post(
    "/interviews/{interview_id}/withdraw",
    response_model=InterviewOut,
    summary="撤回访谈：从公开页面、直播流和站内搜索中撤下（留档；直播中须先结束）",
    responses=ERRORS,
)
async def withdraw(
    interview_id: IdPath,
    body: WithdrawIn,
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> InterviewOut:
    interview = await interviews.get_interview(session, interview_id, site)
    interviews.require_manager(principal, interview)
    await interviews.withdraw(session, interview, principal.sub, body.reason)
    return interview_out(interview)


@router.post(
    "/interviews/{interview_id}/archive",
    response_model=InterviewOut,
    summary="归档实录：实录入库、放入在线访谈栏目并提交审核（后台完成；失败后可再次归档重试）",
    description=(
        "访谈须已结束。实录发往访谈指定的栏目，未指定时发往本站代码或名称为配置值（默认「在线访谈」）的栏目；"
        "没有这样的栏目时答 409，访谈不变。`publication` 随后由 pending 变为 in_review，发布后带 published_url。"
    ),
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed, ServiceUnavailable
    ),
)
async def archive(
    interview_id: IdPath, site: RequiredSiteDep, session: SessionDep, state: StateDep, principal: PrincipalDep
) -> InterviewOut:
    interview = await interviews.get_interview(session, interview_id, site)
    interviews.require_manager(principal, interview)
    runtime = state.interviews
    retry = transcripts.may_requeue(interview)
    if not retry:  # refuses anything but an ended interview before content is asked
        await interviews.transition(
            session, interview, InterviewStatus.ARCHIVED, principal.sub, runtime.hub.wake
        )
    column = await transcripts.resolve_column(
        runtime.columns, site, interview.column_id, runtime.transcript_column
    )
    transcripts.queue(interview, column)
    return interview_out(interview)


@router.post(
    "/interviews/{interview_id}/questions",
    status_code=201,
    response_model=QuestionReceiptOut,
    summary="网友提问（须登录；先经机器审查，再经人工审核后公开）",
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed, TooManyRequests, ServiceUnavailable
    ),
)
async def ask(
    interview_id: IdPath,
    body: QuestionIn,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
) -> QuestionReceiptOut:
    interview = await interviews.get_interview(session, interview_id, site)
    wait = state.interviews.throttle.take(f"user:{principal.sub}")
    if wait is not None:
        raise TooManyRequests(
            "提问过于频繁，请稍后再试", headers={"Retry-After": str(max(1, math.ceil(wait)))}
        )
    question = await interview_questions.ask(session, interview, principal, body.text, state.review)
    assert question.id is not None
    return QuestionReceiptOut(
        id=question.id, status=QuestionStatus(question.status), submitted_at=question.submitted_at
    )


@router.get(
    "/interviews/{interview_id}/questions",
    response_model=QuestionPage,
    summary="待审与已审问题（主持人与本站编辑、审核人员）",
    responses=ERRORS,
)
async def moderation_queue(
    interview_id: IdPath,
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[QuestionStatus | None, Query()] = None,
) -> QuestionPage:
    interview = await interviews.get_interview(session, interview_id, site)
    interviews.require_moderator(principal, interview)
    assert interview.id is not None
    rows, total = await questions_page(session, interview.id, status, page)
    return QuestionPage(total=total, page=page.page, size=page.size, items=[question_out(q) for q in rows])


@router.post(
    "/interviews/{interview_id}/questions/{question_id}/approve",
    response_model=QuestionOut,
    summary="通过问题：隐去个人信息后进入直播流",
    responses=ERRORS,
)
async def approve(
    interview_id: IdPath,
    question_id: IdPath,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
) -> QuestionOut:
    interview = await interviews.get_interview(session, interview_id, site)
    interviews.require_moderator(principal, interview)
    question = await interview_questions.moderated_question(session, interview, question_id)
    await interview_questions.approve(session, interview, question, principal.sub, state.interviews.hub.wake)
    return question_out(question)


@router.post(
    "/interviews/{interview_id}/questions/{question_id}/reject",
    response_model=QuestionOut,
    summary="不予采用（永不公开）",
    responses=ERRORS,
)
async def reject(
    interview_id: IdPath,
    question_id: IdPath,
    body: RejectIn,
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> QuestionOut:
    interview = await interviews.get_interview(session, interview_id, site)
    interviews.require_moderator(principal, interview)
    question = await interview_questions.moderated_question(session, interview, question_id)
    await interview_questions.reject(session, question, body.reason, principal.sub)
    return question_out(question)


@router.post(
    "/interviews/{interview_id}/answers",
    status_code=201,
    response_model=EntryOut,
    summary="嘉宾答复（答某一问题或自由发言，可附图片、视频链接）",
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed, ReviewBlocked, ServiceUnavailable
    ),
)
async def post_answer(
    interview_id: IdPath,
    body: AnswerIn,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
) -> EntryOut:
    interview = await interviews.get_interview(session, interview_id, site)
    entry = await interview_posts.answer(
        session, interview, principal, body, state.review, state.interviews.hub.wake
    )
    return entry_out(entry)


@router.post(
    "/interviews/{interview_id}/notes",
    status_code=201,
    response_model=EntryOut,
    summary="主持人发布主持词或现场说明",
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed, ReviewBlocked, ServiceUnavailable
    ),
)
async def post_note(
    interview_id: IdPath,
    body: NoteIn,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
) -> EntryOut:
    interview = await interviews.get_interview(session, interview_id, site)
    entry = await interview_posts.note(
        session, interview, principal, body, state.review, state.interviews.hub.wake
    )
    return entry_out(entry)
