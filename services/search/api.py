"""Routers of the search service: thin, the rules live in service modules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.kernel.deps import CtxDep, PageDep, SiteDep, client_ip
from services.kernel.errors import ServiceUnavailable, ValidationFailed, problem_responses
from services.search.querying import SearchParams, run_search, run_suggest
from services.search.schemas import SearchResponse, SuggestResponse
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
        date_from=_day_start(date_from),
        date_to=_day_end(date_to),
        archived=archived,
        sort=sort,
        page=paging.page,
        size=paging.size,
    )
    try:
        outcome = await run_search(state.backend, state.analyzer, state.vocabulary, params)
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


def _metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/metrics", include_in_schema=False)
async def service_metrics() -> Response:
    return _metrics()


@root_router.get("/metrics")
async def root_metrics() -> Response:
    return _metrics()
