"""Routers of the search service: thin, the rules live in service modules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.kernel import clock
from services.kernel.access import require_roles
from services.kernel.deps import CtxDep, OptionalPrincipalDep, PageDep, SiteDep, client_ip
from services.kernel.errors import NotFound, ServiceUnavailable, ValidationFailed, problem_responses
from services.kernel.roles import Role
from services.search import querylog
from services.search.backends.base import DocKind
from services.search.querying import SearchParams, run_search, run_suggest
from services.search.schemas import (
    QueryCountOut,
    QueryStatisticsOut,
    SearchResponse,
    SuggestResponse,
)
from services.search.state import search_state

router = APIRouter(tags=["search"])
root_router = APIRouter(include_in_schema=False)

MAX_QUERY_CHARS = 2000


def _day_start(value: date | None) -> datetime | None:
    return datetime.combine(value, time.min, tzinfo=UTC) if value else None


def _day_end(value: date | None) -> datetime | None:
    return datetime.combine(value, time.max, tzinfo=UTC) if value else None


@router.get(
    "/search",
    response_model=SearchResponse,
    summary="站内搜索 / 全平台搜索",
    responses=problem_responses(ValidationFailed, ServiceUnavailable),
)
async def search(
    request: Request,
    ctx: CtxDep,
    site: SiteDep,
    paging: PageDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="检索词；可为文号")],
    scope: Annotated[Literal["site", "platform"] | None, Query(description="默认：有站点时为本站")] = None,
    column: Annotated[int | None, Query(description="栏目 id（仅本站范围）")] = None,
    genre: Annotated[str | None, Query(max_length=64, description="体裁分类")] = None,
    topic: Annotated[str | None, Query(max_length=64, description="主题分类")] = None,
    org: Annotated[str | None, Query(max_length=128, description="发布机构")] = None,
    kind: Annotated[DocKind | None, Query(description="结果类别：信息发布、意见征集、调查、在线访谈")] = None,
    date_from: Annotated[date | None, Query(alias="from", description="发布日期起（含）")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="发布日期止（含）")] = None,
    sort: Annotated[Literal["relevance", "date"], Query()] = "relevance",
    archived: Annotated[Literal["exclude", "include", "only"], Query(description="已归档信息")] = "exclude",
) -> SearchResponse:
    effective = scope or ("site" if site else "platform")
    if effective == "site" and not site:
        raise ValidationFailed.field("scope", "本站搜索须通过站点域名或 /sites/{code}/ 前缀访问")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed.field("from", "起始日期晚于截止日期")
    state = search_state(ctx)
    params = SearchParams(
        q=q,
        site=site if effective == "site" else None,
        platform=effective == "platform",
        column_id=column,
        genre=genre,
        topic=topic,
        org=org,
        kind=kind,
        date_from=_day_start(date_from),
        date_to=_day_end(date_to),
        archived=archived,
        sort=sort,
        page=paging.page,
        size=paging.size,
    )
    try:
        outcome = await run_search(state.backend, ctx.db, state.analyzer, state.vocabulary, params)
    except Exception as exc:
        # Engine trouble is an outage, not the caller's fault, and its text stays in our log.
        raise ServiceUnavailable("搜索引擎暂不可用，请稍后再试") from exc
    state.querylog.add(
        address=client_ip(request),
        query=q,
        scope=effective,
        site=site,
        total=outcome.total,
        took_ms=outcome.took_ms,
    )
    # One validation of the whole answer in pydantic's core, not one model per hit in Python.
    return SearchResponse.model_validate(
        {
            "total": outcome.total,
            "page": paging.page,
            "size": paging.size,
            "scope": effective,
            "items": outcome.items,
            "suggestion": outcome.suggestion,
        }
    )


@router.get("/suggest", response_model=SuggestResponse, summary="输入联想：按标题补全")
async def suggest(
    ctx: CtxDep,
    site: SiteDep,
    q: Annotated[str, Query(max_length=100, description="已输入的前缀")] = "",
    size: Annotated[int, Query(ge=1, le=20)] = 10,
) -> SuggestResponse:
    state = search_state(ctx)
    try:
        items = await run_suggest(state.backend, state.analyzer, q, site, size)
    except Exception as exc:
        raise ServiceUnavailable("搜索引擎暂不可用，请稍后再试") from exc
    return SuggestResponse(q=q, items=items)


@router.get(
    "/sites/{code}/query-statistics",
    response_model=QueryStatisticsOut,
    summary="站点检索统计：热门检索词与无结果检索词（站点管理员、审计员）",
    responses=problem_responses(NotFound, ValidationFailed),
)
async def query_statistics(
    code: str,
    ctx: CtxDep,
    principal: OptionalPrincipalDep,
    date_from: Annotated[date, Query(alias="from", description="起始日期（含，北京时间）")],
    date_to: Annotated[date, Query(alias="to", description="截止日期（含，北京时间）")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> QueryStatisticsOut:
    require_roles(principal, code, (Role.SITE_ADMIN, Role.AUDITOR), "站点")
    if date_from > date_to:
        raise ValidationFailed.field("from", "起始日期晚于截止日期")
    # the log keeps UTC; the days asked for are Beijing days
    start = datetime.combine(date_from, time.min, tzinfo=clock.SHANGHAI).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI).astimezone(UTC)
    async with ctx.db.session() as session:
        total, top, zero = await querylog.query_statistics(session, code, start, end, limit)
    return QueryStatisticsOut(
        site=code,
        first_day=date_from.isoformat(),
        last_day=date_to.isoformat(),
        searches=total,
        top=[QueryCountOut(query=q, count=n) for q, n in top],
        zero_results=[QueryCountOut(query=q, count=n) for q, n in zero],
    )


def _metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/metrics", include_in_schema=False)
async def service_metrics() -> Response:
    return _metrics()


@root_router.get("/metrics")
async def root_metrics() -> Response:
    return _metrics()
