"""Internal endpoints other services read: the site registry and the index documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlmodel import col

from services.content.models import Publication, Site, SiteColumn
from services.content.service import sites
from services.content.service.documents import index_document
from services.content.service.publications import VISIBLE_STATES
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Forbidden, problem_responses

router = APIRouter(tags=["内部接口"])


def _require_internal(principal: Any) -> None:
    if not (principal.is_internal or principal.has_role("platform_admin")):
        raise Forbidden("仅限平台内部服务调用")


@router.get(
    "/site-registry", summary="站点注册表（网关据此解析租户）", responses=problem_responses(Forbidden)
)
async def site_registry(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    _require_internal(principal)
    return await sites.registry(session)


@router.get(
    "/index-documents",
    summary="已发布与已归档信息的索引文档（按 id）；给出 ids 时返回这些信息的当前文档（任何状态）",
    responses=problem_responses(Forbidden),
)
async def index_documents(
    session: SessionDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ids: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,18}(,[0-9]{1,18}){0,999}$", description="逗号分隔的信息编号，至多 1000 个"),
    ] = None,
) -> dict[str, Any]:
    _require_internal(principal)
    if ids is not None:
        # Feed consumers resolve the references a batch of events carries.
        wanted = sorted({int(i) for i in ids.split(",")})
        stmt = select(Publication).where(col(Publication.id).in_(wanted)).order_by(col(Publication.id))
    else:
        stmt = (
            select(Publication)
            .where(col(Publication.id) > after, col(Publication.status).in_(VISIBLE_STATES))
            .order_by(col(Publication.id))
            .limit(limit)
        )
    rows = list((await session.execute(stmt)).scalars())
    site_names = {row[0]: row[1] for row in await session.execute(select(col(Site.code), col(Site.name)))}
    column_ids = {p.column_id for p in rows}
    column_names: dict[int, str] = {}
    if column_ids:
        stmt_columns = select(col(SiteColumn.id), col(SiteColumn.name)).where(
            col(SiteColumn.id).in_(column_ids)
        )
        column_names = {row[0]: row[1] for row in await session.execute(stmt_columns) if row[0] is not None}
    items = [
        index_document(p, site_names.get(p.site_id, p.site_id), column_names.get(p.column_id, ""))
        for p in rows
    ]
    return {"items": items, "next_after": rows[-1].id if rows else after, "has_more": ids is None and len(rows) == limit}
