"""Site and column administration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.content.schemas import ColumnCreate, ColumnUpdate, SiteCreate, SiteStatusChange, SiteUpdate
from services.content.service import columns, offline, sites
from services.content.service.common import ensure_member, holds
from services.content.settings import ContentSettings
from services.kernel.deps import CtxDep, PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses

router = APIRouter(tags=["站点与栏目管理"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict, ValidationFailed)


def _require_site_admin(principal: Any, code: str) -> None:
    ensure_member(principal, code)
    if not holds(principal, code, "site_admin"):
        raise Forbidden(f"需要站点 {code} 的站点管理员角色")


@router.get("/sites", summary="站点列表（平台管理员看全部，其他人看自己有角色的站点）")
async def list_sites(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    items = [
        sites.site_json(s)
        for s in await sites.list_sites(session)
        if holds(principal, s.code, "site_admin", "editor", "reviewer", "auditor")
    ]
    return {"total": len(items), "items": items}


@router.post("/sites", status_code=201, summary="登记站点（系统管理员）", responses=ERRORS)
async def create_site(body: SiteCreate, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    principal.require("platform_admin")
    site = await sites.create_site(session, body.model_dump(), principal.sub)
    return sites.site_json(site)


@router.get("/sites/{code}", summary="站点详情", responses=ERRORS)
async def get_site(code: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_member(principal, code)
    return sites.site_json(await sites.get_site(session, code))


@router.patch("/sites/{code}", summary="修改站点信息", responses=ERRORS)
async def update_site(
    code: str, body: SiteUpdate, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    _require_site_admin(principal, code)
    changes = body.model_dump(exclude_unset=True)
    if ("domains" in changes or "id_code" in changes or "parent_code" in changes) and not holds(
        principal, code
    ):
        raise Forbidden("域名、网站标识码和上级站点只能由系统管理员修改")
    return sites.site_json(await sites.update_site(session, code, changes, principal.sub))


@router.post(
    "/sites/{code}/status", summary="站点状态变更：上线、临时关停、下线（系统管理员）", responses=ERRORS
)
async def change_status(
    code: str, body: SiteStatusChange, session: SessionDep, principal: PrincipalDep, ctx: CtxDep
) -> dict[str, Any]:
    principal.require("platform_admin")
    if body.status == "offline":
        settings = ctx.settings
        assert isinstance(settings, ContentSettings)
        result = await offline.take_offline(
            session,
            code,
            principal.sub,
            reason=body.reason,
            portal_code=settings.content_portal_site,
            notice_days=settings.content_offline_notice_days,
        )
        return {**sites.site_json(await sites.get_site(session, code)), "migration": result}
    site = await sites.change_status(
        session, code, body.status, principal.sub, resume_at=body.resume_at, reason=body.reason
    )
    return sites.site_json(site)


@router.get("/sites/{code}/history", summary="站点变更记录", responses=ERRORS)
async def site_history(code: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_member(principal, code)
    items = await sites.history(session, code)
    return {"total": len(items), "items": items}


@router.get("/sites/{code}/columns", summary="栏目树（平铺，带 parent_id）", responses=ERRORS)
async def list_columns(code: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_member(principal, code)
    await sites.get_site(session, code)
    items = [columns.column_json(c) for c in await columns.list_columns(session, code)]
    return {"total": len(items), "items": items}


@router.post("/sites/{code}/columns", status_code=201, summary="新建栏目（站点管理员）", responses=ERRORS)
async def create_column(
    code: str, body: ColumnCreate, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    _require_site_admin(principal, code)
    await sites.get_site(session, code)
    return columns.column_json(await columns.create_column(session, code, body.model_dump()))


@router.get("/sites/{code}/columns/{column_id}", summary="栏目详情", responses=ERRORS)
async def get_column(
    code: str, column_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    ensure_member(principal, code)
    return columns.column_json(await columns.get_column(session, code, column_id))


@router.patch(
    "/sites/{code}/columns/{column_id}", summary="修改或移动栏目（id 与地址不变）", responses=ERRORS
)
async def update_column(
    code: str, column_id: int, body: ColumnUpdate, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    _require_site_admin(principal, code)
    column = await columns.update_column(session, code, column_id, body.model_dump(exclude_unset=True))
    return columns.column_json(column)


@router.delete("/sites/{code}/columns/{column_id}", status_code=204, summary="删除空栏目", responses=ERRORS)
async def delete_column(code: str, column_id: int, session: SessionDep, principal: PrincipalDep) -> None:
    _require_site_admin(principal, code)
    await columns.delete_column(session, code, column_id)
