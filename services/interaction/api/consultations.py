"""意见征集: staff draft and open a consultation, citizens comment on its paragraphs, moderators
decide what is published, and a feedback report closes it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.interaction.models import Consultation
from services.interaction.schemas import WithdrawIn
from services.interaction.schemas.consultations import (
    CommentIn,
    CommentPage,
    CommentStatus,
    ConsultationIn,
    ConsultationOut,
    ConsultationPage,
    ConsultationStaffOut,
    ConsultationStatus,
    FeedbackIn,
    ModerationIn,
    OwnCommentOut,
    OwnCommentPage,
)
from services.interaction.service import consultations as svc
from services.interaction.service.consultation_views import (
    comment_out,
    consultation_out,
    consultations_page,
    own_comment_out,
    summary_out,
)
from services.interaction.state import StateDep
from services.kernel.access import can_read, can_write, holds
from services.kernel.auth import Principal
from services.kernel.deps import CtxDep, PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.pagination import MAX_PAGE_SIZE
from services.kernel.params import CursorQuery, IdPath, OptionalIdQuery

router = APIRouter(tags=["consultations"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed, ServiceUnavailable)
PUBLIC_ERRORS = problem_responses(NotFound, ValidationFailed)
SizeQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数")]


def _library(ctx: CtxDep) -> svc.Library:
    return svc.resources_library(ctx.directory)


LibraryDep = Annotated[svc.Library, Depends(_library)]


def _writer(principal: Principal, site: str) -> None:
    if not can_write(principal, site):
        raise Forbidden(f"需要站点 {site} 的编辑或站点管理员角色")


async def _staff_view(session: SessionDep, cid: int, principal: Principal) -> ConsultationStaffOut:
    c = await svc.staff_consultation(session, cid, principal)
    out = await consultation_out(session, c, staff=True)
    assert isinstance(out, ConsultationStaffOut)
    return out


async def _writable(session: SessionDep, cid: int, principal: Principal) -> Consultation:
    c = await svc.staff_consultation(session, cid, principal)
    _writer(principal, c.site)
    return c


@router.post(
    "/consultations",
    status_code=201,
    response_model=ConsultationStaffOut,
    summary="起草意见征集（征求意见稿：段落带稳定编号；附件引用资源库或给出文字）",
    responses=ERRORS,
)
async def create(
    body: ConsultationIn,
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
    library: LibraryDep,
) -> ConsultationStaffOut:
    _writer(principal, site)
    c = await svc.create(session, site, body, principal.sub, library)
    return await _staff_view(session, c.id or 0, principal)


@router.get(
    "/consultations",
    response_model=ConsultationPage,
    summary="本站的意见征集（含草稿，工作人员）",
    responses=ERRORS,
)
async def staff_list(
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
    size: SizeQuery = 20,
    before: OptionalIdQuery = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50, description="标题包含")] = None,
    status: Annotated[ConsultationStatus | None, Query()] = None,
) -> ConsultationPage:
    if not can_read(principal, site):
        raise Forbidden(f"需要站点 {site} 的工作人员角色")
    rows, nxt = await consultations_page(session, site, before, size, q, status, include_drafts=True)
    return ConsultationPage(items=[summary_out(c) for c in rows], next_before=nxt)


@router.get(
    "/consultations/{cid}",
    response_model=ConsultationStaffOut,
    summary="意见征集（工作人员视图）",
    responses=ERRORS,
)
async def staff_read(cid: IdPath, session: SessionDep, principal: PrincipalDep) -> ConsultationStaffOut:
    return await _staff_view(session, cid, principal)


@router.put("/consultations/{cid}", response_model=ConsultationStaffOut, summary="修改草稿", responses=ERRORS)
async def edit(
    cid: IdPath, body: ConsultationIn, session: SessionDep, principal: PrincipalDep, library: LibraryDep
) -> ConsultationStaffOut:
    await svc.update(session, await _writable(session, cid, principal), body, library)
    return await _staff_view(session, cid, principal)


@router.post(
    "/consultations/{cid}/open",
    response_model=ConsultationStaffOut,
    summary="发布征集（自开始时间起接受意见）",
    responses=ERRORS,
)
async def open_consultation(
    cid: IdPath, session: SessionDep, principal: PrincipalDep
) -> ConsultationStaffOut:
    await svc.open_(session, await _writable(session, cid, principal))
    return await _staff_view(session, cid, principal)


@router.post(
    "/consultations/{cid}/close",
    response_model=ConsultationStaffOut,
    summary="提前结束征集（截止时间改为此刻）",
    responses=ERRORS,
)
async def close_consultation(
    cid: IdPath, session: SessionDep, principal: PrincipalDep
) -> ConsultationStaffOut:
    await svc.close(session, await _writable(session, cid, principal))
    return await _staff_view(session, cid, principal)


@router.post(
    "/consultations/{cid}/withdraw",
    response_model=ConsultationStaffOut,
    summary="撤回征集：从公开页面和站内搜索中撤下（留档，意见保留）",
    responses=ERRORS,
)
async def withdraw_consultation(
    cid: IdPath, body: WithdrawIn, session: SessionDep, principal: PrincipalDep
) -> ConsultationStaffOut:
    await svc.withdraw(session, await _writable(session, cid, principal), principal.sub, body.reason)
    return await _staff_view(session, cid, principal)


@router.post(
    "/consultations/{cid}/feedback",
    response_model=ConsultationStaffOut,
    summary="发布意见采纳情况反馈，并关联资源库中的定稿政策",
    responses=ERRORS,
)
async def feedback(
    cid: IdPath, body: FeedbackIn, session: SessionDep, principal: PrincipalDep, library: LibraryDep
) -> ConsultationStaffOut:
    await svc.publish_feedback(session, await _writable(session, cid, principal), body, library)
    return await _staff_view(session, cid, principal)


@router.get(
    "/consultations/{cid}/comments",
    response_model=OwnCommentPage,
    summary="待审核、已公开或已驳回的意见（审核人员；机器审查拦截的不在其中）",
    responses=ERRORS,
)
async def moderation_queue(
    cid: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[Literal["pending", "approved", "rejected"], Query()] = "pending",
    after: CursorQuery = 0,
    size: SizeQuery = 20,
) -> OwnCommentPage:
    c = await svc.staff_consultation(session, cid, principal)
    if not holds(principal, c.site, svc.MODERATOR_ROLES):
        raise Forbidden("需要本站的审核、编辑或站点管理员角色")
    rows, nxt = await svc.comments_page(session, cid, CommentStatus(status), after, size)
    return OwnCommentPage(items=[own_comment_out(r) for r in rows], next_after=nxt)


@router.post(
    "/comments/{comment_id}/moderation",
    response_model=OwnCommentOut,
    summary="审核一条意见：通过（公开，已遮蔽个人信息）或驳回（须说明理由）",
    responses=ERRORS,
)
async def moderate(
    comment_id: IdPath, body: ModerationIn, session: SessionDep, principal: PrincipalDep
) -> OwnCommentOut:
    row, c = await svc.moderated_comment(session, comment_id, principal)
    await svc.moderate(session, row, c, body.action == "approve", body.note, principal.sub)
    return own_comment_out(row)


@router.post(
    "/consultations/{cid}/comments",
    status_code=201,
    response_model=OwnCommentOut,
    summary="对征集稿的某一段提出意见（须登录；先经机器审查，再经人工审核后公开）",
    responses=ERRORS,
)
async def write_comment(
    cid: IdPath,
    body: CommentIn,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
) -> OwnCommentOut:
    c = await svc.public_consultation(session, cid, site)
    if principal.kind != "user":
        raise Forbidden("意见须由登录的个人提交")
    return own_comment_out(await svc.comment(session, c, body, principal, state.review))


@router.get(
    "/consultations/{cid}/comments/mine",
    response_model=OwnCommentPage,
    summary="我对该征集提出的意见及其审核结果（含机器审查未通过的）",
    responses=ERRORS,
)
async def my_comments(
    cid: IdPath,
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
    after: CursorQuery = 0,
    size: SizeQuery = 20,
) -> OwnCommentPage:
    await svc.public_consultation(session, cid, site)
    rows, nxt = await svc.comments_page(
        session, cid, CommentStatus.PENDING, after, size, author=principal.sub
    )
    return OwnCommentPage(items=[own_comment_out(r) for r in rows], next_after=nxt)


@router.get(
    "/public/consultations",
    response_model=ConsultationPage,
    summary="本站公开的意见征集（按标题筛选；游标分页，新的在前）",
    responses=PUBLIC_ERRORS,
)
async def public_list(
    site: RequiredSiteDep,
    session: SessionDep,
    size: SizeQuery = 20,
    before: OptionalIdQuery = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50, description="标题包含")] = None,
    status: Annotated[ConsultationStatus | None, Query()] = None,
) -> ConsultationPage:
    if status == ConsultationStatus.DRAFT:
        raise ValidationFailed.field("status", "草稿不公开")
    rows, nxt = await consultations_page(session, site, before, size, q, status, include_drafts=False)
    return ConsultationPage(items=[summary_out(c) for c in rows], next_before=nxt)


@router.get(
    "/public/consultations/{cid}",
    response_model=ConsultationOut,
    summary="一项意见征集：征集稿、附件、各段已公开意见数与反馈报告",
    responses=PUBLIC_ERRORS,
)
async def public_read(cid: IdPath, site: RequiredSiteDep, session: SessionDep) -> ConsultationOut:
    return await consultation_out(session, await svc.public_consultation(session, cid, site))


@router.get(
    "/public/consultations/{cid}/comments",
    response_model=CommentPage,
    summary="已公开的意见（已遮蔽个人信息，不含提出人；可按段落筛选；游标分页）",
    responses=PUBLIC_ERRORS,
)
async def public_comments(
    cid: IdPath,
    site: RequiredSiteDep,
    session: SessionDep,
    anchor: Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    after: CursorQuery = 0,
    size: SizeQuery = 20,
) -> CommentPage:
    await svc.public_consultation(session, cid, site)
    rows, nxt = await svc.comments_page(session, cid, CommentStatus.APPROVED, after, size, anchor=anchor)
    return CommentPage(items=[comment_out(r) for r in rows], next_after=nxt)
