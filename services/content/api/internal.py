"""Internal endpoints other services read: the site registry and the index documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.content.schemas import IndexDocumentsOut, RegistryOut
from services.content.service import publications, sites
from services.kernel.auth import Principal
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Forbidden, problem_responses
from services.kernel.params import CursorQuery
from services.kernel.roles import Role

router = APIRouter(tags=["内部接口"])


def _require_internal(principal: Principal) -> None:
    if not (principal.is_internal or principal.has_role(Role.PLATFORM_ADMIN)):
        raise Forbidden("仅限平台内部服务调用")


@router.get(
    "/site-registry",
    response_model=RegistryOut,
    summary="站点注册表（网关据此解析租户）",
    responses=problem_responses(Forbidden),
)
async def site_registry(session: SessionDep, principal: PrincipalDep) -> RegistryOut:
    _require_internal(principal)
    return await sites.registry(session)


@router.get(
    "/index-documents",
    response_model=IndexDocumentsOut,
    summary="已发布与已归档信息的索引文档（按 id）；给出 ids 时返回这些信息的当前文档（任何状态）",
    responses=problem_responses(Forbidden),
)
async def index_documents(
    session: SessionDep,
    principal: PrincipalDep,
    after: CursorQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ids: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,18}(,[0-9]{1,18}){0,999}$", description="逗号分隔的信息编号，至多 1000 个"),
    ] = None,
) -> IndexDocumentsOut:
    _require_internal(principal)
    wanted = [int(i) for i in ids.split(",")] if ids is not None else None
    items, next_after = await publications.index_documents(session, after, limit, wanted)
    return IndexDocumentsOut(
        items=items, next_after=next_after, has_more=wanted is None and len(items) == limit
    )
