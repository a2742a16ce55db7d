"""Annual reports (年度工作报表): JSON, XLSX, a printable page, the entered rows and the draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from services.kernel.deps import CtxDep, PrincipalDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses
from services.oversight import flows
from services.oversight.schemas import AnnualReportOut, ReportDraftOut, ReportEntriesIn
from services.oversight.service import annual
from services.oversight.service.access import require_report_editor, require_site_reader
from services.oversight.service.report_render import to_html, to_xlsx
from services.oversight.state import OversightState

router = APIRouter(tags=["oversight"])

YearPath = Annotated[int, Path(ge=2000, le=2100, description="报表年度")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BASE = "/sites/{code}/annual-reports/{year}"


@router.get(
    BASE,
    response_model=AnnualReportOut,
    summary="站点年度工作报表（平台数据计算与站点填报，按国家报表的行）",
    responses=problem_responses(Forbidden, NotFound),
)
async def get_report(code: str, year: YearPath, principal: PrincipalDep, ctx: CtxDep) -> AnnualReportOut:
    require_site_reader(principal, code)
    return await flows.report_of(ctx.db, ctx.state_of(OversightState), code, year)


@router.put(
    f"{BASE}/entries",
    response_model=AnnualReportOut,
    summary="填报平台无法计算的行（留痕）",
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
async def put_entries(
    code: str, year: YearPath, body: ReportEntriesIn, principal: PrincipalDep, ctx: CtxDep
) -> AnnualReportOut:
    require_report_editor(principal, code)
    async with ctx.db.session() as session:
        await annual.enter(session, code, year, body, principal.sub)
    return await flows.report_of(ctx.db, ctx.state_of(OversightState), code, year)


@router.get(
    f"{BASE}/xlsx",
    summary="年度工作报表（Excel）",
    response_class=Response,
    responses={
        **problem_responses(Forbidden, NotFound),
        200: {
            "description": "报表工作簿",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def get_xlsx(code: str, year: YearPath, principal: PrincipalDep, ctx: CtxDep) -> Response:
    require_site_reader(principal, code)
    report = await flows.report_of(ctx.db, ctx.state_of(OversightState), code, year)
    return Response(
        to_xlsx(report),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="annual-report-{code}-{year}.xlsx"'},
    )


@router.get(
    f"{BASE}/page",
    summary="年度工作报表（可打印页面，含图表）",
    response_class=HTMLResponse,
    responses={
        **problem_responses(Forbidden, NotFound),
        200: {"description": "HTML 页面", "content": {"text/html": {"schema": {"type": "string"}}}},
    },
)
async def get_page(code: str, year: YearPath, principal: PrincipalDep, ctx: CtxDep) -> HTMLResponse:
    require_site_reader(principal, code)
    return HTMLResponse(to_html(await flows.report_of(ctx.db, ctx.state_of(OversightState), code, year)))


@router.post(
    f"{BASE}/draft",
    response_model=ReportDraftOut,
    summary="把年度报表作为稿件送入站点报表栏目的审核流程（每年一次）",
    responses=problem_responses(Forbidden, NotFound, Conflict),
)
async def post_draft(code: str, year: YearPath, principal: PrincipalDep, ctx: CtxDep) -> ReportDraftOut:
    require_report_editor(principal, code)
    pid = await flows.draft(ctx.db, ctx.state_of(OversightState), code, year)
    return ReportDraftOut(site=code, year=year, publication_id=pid)
