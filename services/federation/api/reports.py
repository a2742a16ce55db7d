"""Annual reports across platforms: submit ours upward, review a peer's, read the states."""

from __future__ import annotations

from fastapi import APIRouter

from services.federation.access import peer_client_id, peer_topics, require_operator, require_reader
from services.federation.schemas import PeerReportDocOut, ReportOut, ReportReview, ReportsOut, ReportSubmit
from services.federation.service import reports
from services.federation.service.peers import get_peer, peer_of_client
from services.federation.vocab import Topic
from services.kernel.deps import CtxDep, PrincipalDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    problem_responses,
)
from services.kernel.params import IdPath
from services.kernel.roles import Role

router = APIRouter(tags=["互联互通"])
READ = problem_responses(Unauthorized, Forbidden, NotFound)
WRITE = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable)


@router.post(
    "/reports",
    response_model=ReportOut,
    status_code=201,
    summary="向互联平台报送站点年度报表",
    responses=WRITE,
)
async def submit_report(
    body: ReportSubmit, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> ReportOut:
    # The site's administrator answers for its report (as in oversight), or the operator.
    if not (
        principal.is_internal or principal.has_any_role((Role.PLATFORM_ADMIN, Role.SITE_ADMIN), body.site)
    ):
        raise Forbidden("需要该站点的站点管理员或系统管理员角色")
    row = await reports.submit(session, ctx.directory.client("oversight"), body, principal.sub)
    return reports.submission_out(row)


@router.get("/reports", response_model=ReportsOut, summary="本平台报送的年度报表及其审核状态", responses=READ)
async def list_submissions(session: SessionDep, principal: PrincipalDep) -> ReportsOut:
    require_reader(principal)
    items = await reports.submissions(session)
    return ReportsOut(items=items, total=len(items))


@router.get(
    "/peers/{code}/reports", response_model=ReportsOut, summary="互联平台报送来的年度报表", responses=READ
)
async def list_received(code: str, session: SessionDep, principal: PrincipalDep) -> ReportsOut:
    require_reader(principal)
    await get_peer(session, code)
    items = await reports.received(session, code)
    return ReportsOut(items=items, total=len(items))


@router.post(
    "/peers/{code}/reports/{report_id}/review",
    response_model=ReportOut,
    summary="审核互联平台报送的年度报表（通过或退回），结果回传对方",
    responses=WRITE,
)
async def review_report(
    code: str, report_id: IdPath, body: ReportReview, session: SessionDep, principal: PrincipalDep
) -> ReportOut:
    require_operator(principal)
    return reports.received_out(await reports.review(session, code, report_id, body, principal.sub))


@router.get(
    "/peer/reports/{submission_id}",
    response_model=PeerReportDocOut,
    summary="供互联平台读取报送给它的年度报表",
    responses=READ,
)
async def peer_report(
    submission_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> PeerReportDocOut:
    peer = await peer_of_client(session, peer_client_id(principal))
    if Topic.REPORT_SUBMITTED not in peer_topics(principal, peer):
        raise Forbidden("该互联平台未被授予读取年度报表的权限范围")
    assert peer is not None
    return await reports.for_peer(session, peer.code, submission_id)
