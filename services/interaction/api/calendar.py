"""The operator's working-day calendar: one year's holidays and 调休 (platform_admin, audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.interaction.flows import edit_calendar_year
from services.interaction.models import CalendarYear
from services.interaction.schemas import AuditEntryOut, AuditPage, CalendarYearIn, CalendarYearOut
from services.interaction.service.access import is_platform_admin
from services.interaction.service.calendar import MAX_YEAR, MIN_YEAR, audit, audit_page, year_out
from services.kernel.auth import Principal
from services.kernel.deps import PageDep, PrincipalDep, SessionDep
from services.kernel.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, problem_responses
from services.kernel.roles import Role

router = APIRouter(tags=["working-day calendar"])
YearPath = Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description="年份")]
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, ValidationFailed)


def _admin(principal: Principal) -> None:
    if not is_platform_admin(principal):
        raise Forbidden("工作日历由系统管理员（platform_admin）维护")


@router.get(
    "/calendar/years/{year}", response_model=CalendarYearOut, summary="某年的节假日与调休", responses=ERRORS
)
async def get_year(year: YearPath, session: SessionDep, principal: PrincipalDep) -> CalendarYearOut:
    _admin(principal)
    await audit(session, principal.sub, "calendar.get", f"calendar/{year}")
    return year_out(year, await session.get(CalendarYear, year))


@router.put(
    "/calendar/years/{year}",
    response_model=CalendarYearOut,
    summary="录入或修改某年的节假日与调休；重算受影响的未结期限并记录原因",
    responses=ERRORS,
)
async def put_year(
    year: YearPath, body: CalendarYearIn, session: SessionDep, principal: PrincipalDep
) -> CalendarYearOut:
    _admin(principal)
    row, moves = await edit_calendar_year(session, year, body, principal.sub)
    out = year_out(year, row)
    out.moved = moves
    return out


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="操作审计：工作日历与站点设置的读写（审计管理员）",
    responses=ERRORS,
)
async def read_audit(session: SessionDep, principal: PrincipalDep, page: PageDep) -> AuditPage:
    if not principal.has_role(Role.AUDIT_ADMIN):
        raise Forbidden("操作审计由审计管理员（audit_admin）查阅")
    rows, total = await audit_page(session, page)
    items = [
        AuditEntryOut(id=r.id or 0, at=r.at, actor=r.actor, action=r.action, target=r.target, detail=r.detail)
        for r in rows
    ]
    return AuditPage(total=total, page=page.page, size=page.size, items=items)
