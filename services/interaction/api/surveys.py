"""调查: staff draft and open a questionnaire, signed-in citizens answer (once each, changeable
until the close), and only after the close anyone — staff included — sees results."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from services.interaction.models import Survey, SurveyAnswer
from services.interaction.schemas import WithdrawIn
from services.interaction.schemas.surveys import (
    AnswerIn,
    AnswerPage,
    AnswerRowOut,
    MyAnswerOut,
    ResultsOut,
    SurveyIn,
    SurveyOut,
    SurveyPage,
    SurveyStaffOut,
    SurveyStatus,
)
from services.interaction.service import surveys as svc
from services.interaction.service.survey_views import (
    bar_chart,
    export_csv,
    export_xlsx,
    summary_out,
    survey_out,
)
from services.kernel.access import can_read, can_write
from services.kernel.auth import Principal
from services.kernel.deps import PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.pagination import MAX_PAGE_SIZE
from services.kernel.params import CursorQuery, IdPath, OptionalIdQuery

router = APIRouter(tags=["surveys"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)
PUBLIC_ERRORS = problem_responses(Forbidden, NotFound, ValidationFailed)
SizeQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数")]
QuestionPath = Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _writer(principal: Principal, site: str) -> None:
    if not can_write(principal, site):
        raise Forbidden(f"需要站点 {site} 的编辑或站点管理员角色")


def _staff(s: Survey) -> SurveyStaffOut:
    out = survey_out(s, staff=True)
    assert isinstance(out, SurveyStaffOut)
    return out


async def _writable(session: SessionDep, sid: int, principal: Principal) -> Survey:
    s = await svc.staff_survey(session, sid, principal)
    _writer(principal, s.site)
    return s


def _mine(row: SurveyAnswer) -> MyAnswerOut:
    return MyAnswerOut(
        survey_id=row.survey_id,
        answers=row.answers,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        revisions=row.revisions,
    )


@router.post(
    "/surveys", status_code=201, response_model=SurveyStaffOut, summary="起草调查问卷", responses=ERRORS
)
async def create(
    body: SurveyIn, site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> SurveyStaffOut:
    _writer(principal, site)
    return _staff(await svc.create(session, site, body, principal.sub))


@router.get("/surveys", response_model=SurveyPage, summary="本站的调查（含草稿，工作人员）", responses=ERRORS)
async def staff_list(
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
    size: SizeQuery = 20,
    before: OptionalIdQuery = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50, description="标题包含")] = None,
    status: Annotated[SurveyStatus | None, Query()] = None,
) -> SurveyPage:
    if not can_read(principal, site):
        raise Forbidden(f"需要站点 {site} 的工作人员角色")
    rows, nxt = await svc.surveys_page(session, site, before, size, q, status, include_drafts=True)
    return SurveyPage(items=[summary_out(s) for s in rows], next_before=nxt)


@router.get(
    "/surveys/{sid}",
    response_model=SurveyStaffOut,
    summary="调查（工作人员视图；结束前无任何统计）",
    responses=ERRORS,
)
async def staff_read(sid: IdPath, session: SessionDep, principal: PrincipalDep) -> SurveyStaffOut:
    return _staff(await svc.staff_survey(session, sid, principal))


@router.put("/surveys/{sid}", response_model=SurveyStaffOut, summary="修改草稿", responses=ERRORS)
async def edit(sid: IdPath, body: SurveyIn, session: SessionDep, principal: PrincipalDep) -> SurveyStaffOut:
    s = await _writable(session, sid, principal)
    await svc.update(s, body)
    return _staff(s)


@router.post("/surveys/{sid}/open", response_model=SurveyStaffOut, summary="发布调查", responses=ERRORS)
async def open_survey(sid: IdPath, session: SessionDep, principal: PrincipalDep) -> SurveyStaffOut:
    s = await _writable(session, sid, principal)
    await svc.open_(session, s)
    return _staff(s)


@router.post(
    "/surveys/{sid}/close",
    response_model=SurveyStaffOut,
    summary="提前结束调查（截止时间改为此刻）",
    responses=ERRORS,
)
async def close_survey(sid: IdPath, session: SessionDep, principal: PrincipalDep) -> SurveyStaffOut:
    s = await _writable(session, sid, principal)
    await svc.close(session, s)
    return _staff(s)


@router.post(
    "/surveys/{sid}/withdraw",
    response_model=SurveyStaffOut,
    summary="撤回调查：从公开页面和站内搜索中撤下（留档，答卷保留）",
    responses=ERRORS,
)
async def withdraw_survey(
    sid: IdPath, body: WithdrawIn, session: SessionDep, principal: PrincipalDep
) -> SurveyStaffOut:
    s = await _writable(session, sid, principal)
    await svc.withdraw(session, s, principal.sub, body.reason)
    return _staff(s)


@router.get(
    "/surveys/{sid}/answers",
    response_model=AnswerPage,
    summary="结束后的答卷（工作人员；不含作答人，填空已遮蔽个人信息；游标分页）",
    responses=ERRORS,
)
async def answers(
    sid: IdPath, session: SessionDep, principal: PrincipalDep, after: CursorQuery = 0, size: SizeQuery = 20
) -> AnswerPage:
    s = await svc.staff_survey(session, sid, principal)
    rows, nxt = await svc.answers_page(session, s, after, size)
    return AnswerPage(items=[AnswerRowOut(id=i, answers=a) for i, a in rows], next_after=nxt)


@router.get(
    "/surveys/{sid}/export",
    summary="结束后导出答卷（CSV 或 XLSX；不含任何个人信息）",
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "description": "答卷表格",
            "content": {
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        },
    },
)
async def export(
    sid: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    s = await svc.staff_survey(session, sid, principal)
    svc.require_closed(s)
    data = await (export_csv(session, s) if format == "csv" else export_xlsx(session, s))
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX
    headers = {
        "Content-Disposition": f'attachment; filename="survey-{sid}.{format}"',
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=media, headers=headers)


@router.put(
    "/surveys/{sid}/answer",
    response_model=MyAnswerOut,
    summary="作答（须登录；每人一份，截止前再次提交即替换原答卷）",
    responses=ERRORS,
)
async def answer(
    sid: IdPath, body: AnswerIn, site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> MyAnswerOut:
    s = await svc.public_survey(session, sid, site)
    if principal.kind != "user":
        raise Forbidden("答卷须由登录的个人提交")
    return _mine(await svc.answer(session, s, body, principal))


@router.get("/surveys/{sid}/answer", response_model=MyAnswerOut, summary="我的答卷", responses=ERRORS)
async def my_answer(
    sid: IdPath, site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> MyAnswerOut:
    s = await svc.public_survey(session, sid, site)
    return _mine(await svc.my_answer(session, s, principal))


@router.get(
    "/public/surveys",
    response_model=SurveyPage,
    summary="本站公开的调查（按标题筛选；游标分页，新的在前）",
    responses=PUBLIC_ERRORS,
)
async def public_list(
    site: RequiredSiteDep,
    session: SessionDep,
    size: SizeQuery = 20,
    before: OptionalIdQuery = None,
    q: Annotated[str | None, Query(min_length=1, max_length=50, description="标题包含")] = None,
    status: Annotated[SurveyStatus | None, Query()] = None,
) -> SurveyPage:
    if status == SurveyStatus.DRAFT:
        raise ValidationFailed.field("status", "草稿不公开")
    rows, nxt = await svc.surveys_page(session, site, before, size, q, status, include_drafts=False)
    return SurveyPage(items=[summary_out(s) for s in rows], next_before=nxt)


@router.get(
    "/public/surveys/{sid}", response_model=SurveyOut, summary="一份调查问卷", responses=PUBLIC_ERRORS
)
async def public_read(sid: IdPath, site: RequiredSiteDep, session: SessionDep) -> SurveyOut:
    return survey_out(await svc.public_survey(session, sid, site))


@router.get(
    "/public/surveys/{sid}/results",
    response_model=ResultsOut,
    summary="调查结果：结束前对任何人（含系统管理员）都不存在（403/404），结束后公布逐项计数与百分比",
    responses=PUBLIC_ERRORS,
)
async def results(sid: IdPath, site: RequiredSiteDep, session: SessionDep) -> ResultsOut:
    return await svc.tally(session, await svc.public_survey(session, sid, site))


@router.get(
    "/public/surveys/{sid}/chart",
    summary="某题结果的条形图（SVG；结束后）",
    response_class=Response,
    responses={
        **PUBLIC_ERRORS,
        200: {"description": "SVG 条形图", "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
    },
)
async def chart(sid: IdPath, question: QuestionPath, site: RequiredSiteDep, session: SessionDep) -> Response:
    result = await svc.tally(session, await svc.public_survey(session, sid, site))
    found = next((q for q in result.questions if q.id == question), None)
    if found is None:
        raise NotFound(f"调查 {sid} 没有题目 {question}")
    return Response(
        bar_chart(found), media_type="image/svg+xml", headers={"Cache-Control": "public, no-cache"}
    )
