"""找错: anyone reports a mistake on a page; the column's editor answers; all of it is public."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.interaction.schemas import AnswerIn, ErrorReportIn, PublicReportOut, PublicReportPage, ReportOut
from services.interaction.service import reports
from services.interaction.service.access import can_handle
from services.interaction.service.calendar import load_calendar
from services.interaction.state import StateDep
from services.interaction.vocab import ReportStatus
from services.kernel.deps import (
    OptionalPrincipalDep,
    PageDep,
    PrincipalDep,
    RequiredSiteDep,
    SessionDep,
    client_ip,
)
from services.kernel.errors import (
    Conflict,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.params import IdPath

router = APIRouter(tags=["error reports"])
ERRORS = problem_responses(Unauthorized, NotFound, Conflict, ValidationFailed)


@router.post(
    "/reports",
    status_code=201,
    response_model=PublicReportOut,
    summary="找错：报告页面的链接错误、内容错误、服务不可用等",
    responses=problem_responses(NotFound, ValidationFailed, TooManyRequests),
)
async def report_error(
    body: ErrorReportIn,
    request: Request,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: OptionalPrincipalDep,
) -> PublicReportOut:
    if principal is None:
        wait = state.throttle.take(client_ip(request))
        if wait is not None:
            raise TooManyRequests(
                "提交过于频繁，请稍后再试", headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
    report = await reports.submit(session, site, body, principal, state.pages, await load_calendar(session))
    return reports.public_report_out(report)


@router.get(
    "/public/reports", response_model=PublicReportPage, summary="本站全部找错报告及处理情况", responses=ERRORS
)
async def list_reports(
    site: RequiredSiteDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ReportStatus | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="按页面地址检索")] = None,
) -> PublicReportPage:
    rows, total = await reports.public_reports(session, site, page, q, status)
    return PublicReportPage(
        total=total, page=page.page, size=page.size, items=[reports.public_report_out(r) for r in rows]
    )


@router.get(
    "/public/reports/{report_id}", response_model=PublicReportOut, summary="一份找错报告", responses=ERRORS
)
async def read_report(report_id: IdPath, site: RequiredSiteDep, session: SessionDep) -> PublicReportOut:
    report = await reports.get_report(session, report_id, site)
    return reports.public_report_out(report)


@router.get(
    "/reports/{report_id}", response_model=ReportOut, summary="找错报告（本站工作人员）", responses=ERRORS
)
async def staff_report(report_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ReportOut:
    report = await reports.get_report(session, report_id, None)
    if not can_handle(principal, report.site):
        raise NotFound(f"找错报告 {report_id} 不存在")
    return reports.report_out(report)


@router.post(
    "/reports/{report_id}/answer", response_model=ReportOut, summary="答复找错报告", responses=ERRORS
)
async def answer(
    report_id: IdPath, body: AnswerIn, session: SessionDep, principal: PrincipalDep
) -> ReportOut:
    return reports.report_out(await reports.answer(session, report_id, body.text, principal))
