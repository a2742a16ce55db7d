"""Site and column administration."""

from __future__ import annotations

from fastapi import APIRouter

from services.content.api.common import SettingsDep, require
from services.content.schemas import (
    ColumnCreate,
    ColumnOut,
    ColumnUpdate,
    Listing,
    SiteCreate,
    SiteHistoryOut,
    SiteOut,
    SiteStatusChange,
    SiteStatusOut,
    SiteUpdate,
)
from services.content.service import columns, offline, sites
from services.content.service.common import ensure_member, holds
from services.content.vocab import SiteStatus
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses
from services.kernel.params import IdPath
from services.kernel.roles import SITE_STAFF_ROLES, Role

router = APIRouter(tags=["站点与栏目管理"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict, ValidationFailed)


@router.get(
    "/sites",
    response_model=Listing[SiteOut],
    summary="站点列表（平台管理员看全部，其他人看自己有角色的站点）",
)
async def list_sites(session: SessionDep, principal: PrincipalDep) -> Listing[SiteOut]:
    items = [
        sites.site_out(s)
        for s in await sites.list_sites(session)
        if holds(principal, s.code, *SITE_STAFF_ROLES)
    ]
    return Listing(total=len(items), items=items)


@router.post(
    "/sites", response_model=SiteOut, status_code=201, summary="登记站点（系统管理员）", responses=ERRORS
)
async def create_site(body: SiteCreate, session: SessionDep, principal: PrincipalDep) -> SiteOut:
    principal.require(Role.PLATFORM_ADMIN)
    return sites.site_out(await sites.create_site(session, body, principal.sub))


@router.get("/sites/{code}", response_model=SiteOut, summary="站点详情", responses=ERRORS)
async def get_site(code: str, session: SessionDep, principal: PrincipalDep) -> SiteOut:
    ensure_member(principal, code)
    return sites.site_out(await sites.get_site(session, code))


@router.patch("/sites/{code}", response_model=SiteOut, summary="修改站点信息", responses=ERRORS)
async def update_site(code: str, body: SiteUpdate, session: SessionDep, principal: PrincipalDep) -> SiteOut:
    require(principal, code, Role.SITE_ADMIN)
    platform_only = {"domains", "id_code", "parent_code"} & body.model_fields_set
    if platform_only and not holds(principal, code):
        raise Forbidden("域名、网站标识码和上级站点只能由系统管理员修改")
    return sites.site_out(await sites.update_site(session, code, body, principal.sub))


@router.post(
    "/sites/{code}/status",
    response_model=SiteStatusOut,
    summary="站点状态变更：上线、临时关停、下线（系统管理员）",
    responses=ERRORS,
)
async def change_status(
    code: str, body: SiteStatusChange, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> SiteStatusOut:
    principal.require(Role.PLATFORM_ADMIN)
    if body.status == SiteStatus.OFFLINE:
        migration = await offline.take_offline(
            session,
            code,
            principal.sub,
            reason=body.reason,
            portal_code=settings.content_portal_site,
            notice_days=settings.content_offline_notice_days,
        )
        site = await sites.get_site(session, code)
        return SiteStatusOut(**sites.site_out(site).model_dump(), migration=migration)
    site = await sites.change_status(
        session, code, body.status, principal.sub, resume_at=body.resume_at, reason=body.reason
    )
    return SiteStatusOut(**sites.site_out(site).model_dump())


@router.get(
    "/sites/{code}/history", response_model=Listing[SiteHistoryOut], summary="站点变更记录", responses=ERRORS
)
async def site_history(code: str, session: SessionDep, principal: PrincipalDep) -> Listing[SiteHistoryOut]:
    ensure_member(principal, code)
    items = await sites.history(session, code)
    return Listing(total=len(items), items=items)


@router.get(
    "/sites/{code}/columns",
    response_model=Listing[ColumnOut],
    summary="栏目树（平铺，带 parent_id）",
    responses=ERRORS,
)
async def list_columns(code: str, session: SessionDep, principal: PrincipalDep) -> Listing[ColumnOut]:
    ensure_member(principal, code)
    await sites.get_site(session, code)
    items = [columns.column_out(c) for c in await columns.list_columns(session, code)]
    return Listing(total=len(items), items=items)


@router.post(
    "/sites/{code}/columns",
    response_model=ColumnOut,
    status_code=201,
    summary="新建栏目（站点管理员）",
    responses=ERRORS,
)
async def create_column(
    code: str, body: ColumnCreate, session: SessionDep, principal: PrincipalDep
) -> ColumnOut:
    require(principal, code, Role.SITE_ADMIN)
    await sites.get_site(session, code)
    return columns.column_out(await columns.create_column(session, code, body))


@router.get(
    "/sites/{code}/columns/{column_id}", response_model=ColumnOut, summary="栏目详情", responses=ERRORS
)
async def get_column(code: str, column_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ColumnOut:
    ensure_member(principal, code)
    return columns.column_out(await columns.get_column(session, code, column_id))


@router.patch(
    "/sites/{code}/columns/{column_id}",
    response_model=ColumnOut,
    summary="修改或移动栏目（id 与地址不变）",
    responses=ERRORS,
)
async def update_column(
    code: str, column_id: IdPath, body: ColumnUpdate, session: SessionDep, principal: PrincipalDep
) -> ColumnOut:
    require(principal, code, Role.SITE_ADMIN)
    return columns.column_out(await columns.update_column(session, code, column_id, body))


@router.delete("/sites/{code}/columns/{column_id}", status_code=204, summary="删除空栏目", responses=ERRORS)
async def delete_column(code: str, column_id: IdPath, session: SessionDep, principal: PrincipalDep) -> None:
    require(principal, code, Role.SITE_ADMIN)
    await columns.delete_column(session, code, column_id)
