"""Visit statistics: ingest from the gateway (internal), figures per site and year."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.kernel import clock
from services.kernel.deps import CtxDep, PrincipalDep, SessionDep
from services.kernel.errors import Forbidden, PayloadTooLarge, problem_responses
from services.oversight.schemas import AccessBatchIn, IngestOut, MonthOut, PageViewsOut, StatisticsOut
from services.oversight.service.access import require_platform_reader, require_site_reader
from services.oversight.service.visits import PLATFORM, ingest, unique_visitors, views_between
from services.oversight.settings import OversightSettings

router = APIRouter(tags=["oversight"])

YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="年份，默认今年")]


@router.post(
    "/access-events",
    response_model=IngestOut,
    summary="网关访问事件（内部）：计入访问量与独立访客",
    responses=problem_responses(Forbidden, PayloadTooLarge),
)
async def access_events(
    body: AccessBatchIn, principal: PrincipalDep, session: SessionDep, ctx: CtxDep
) -> IngestOut:
    if not principal.is_internal:
        raise Forbidden("仅网关可提交访问事件")
    settings = ctx.settings
    assert isinstance(settings, OversightSettings)
    if len(body.events) > settings.oversight_ingest_max_batch:
        raise PayloadTooLarge(f"一批最多 {settings.oversight_ingest_max_batch} 条访问事件")
    counted = await ingest(session, body.events, settings.oversight_hll_lg_k)
    return IngestOut(accepted=len(body.events), page_views=counted)


async def _statistics(session: SessionDep, site: str, year: int) -> StatisticsOut:
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = await views_between(session, site, first, last)
    months: Counter[str] = Counter()
    pages: Counter[tuple[str, str]] = Counter()
    for row in rows:
        months[row.day.strftime("%Y-%m")] += row.views
        pages[(row.kind, row.ref)] += row.views
    return StatisticsOut(
        site=site,
        year=year,
        first_day=first,
        last_day=last,
        page_views=sum(months.values()),
        unique_visitors=await unique_visitors(session, site, str(year)),
        by_month=[MonthOut(month=m, page_views=v) for m, v in sorted(months.items())],
        top_pages=[PageViewsOut(kind=k, ref=r, views=v) for (k, r), v in pages.most_common(20)],
    )


@router.get(
    "/sites/{code}/statistics",
    response_model=StatisticsOut,
    summary="站点年度访问统计：访问量、独立用户访问总量、热门页面",
    responses=problem_responses(Forbidden),
)
async def site_statistics(
    code: str, principal: PrincipalDep, session: SessionDep, year: YearQuery = None
) -> StatisticsOut:
    require_site_reader(principal, code)
    return await _statistics(session, code, year or clock.today().year)


@router.get(
    "/statistics",
    response_model=StatisticsOut,
    summary="全平台年度独立用户访问总量",
    responses=problem_responses(Forbidden),
)
async def platform_statistics(
    principal: PrincipalDep, session: SessionDep, year: YearQuery = None
) -> StatisticsOut:
    require_platform_reader(principal)
    return await _statistics(session, PLATFORM, year or clock.today().year)
