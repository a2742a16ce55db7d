"""Public delivery for the current tenant, served from pre-rendered bytes.

A cache hit is answered by `DeliveryCacheMiddleware` before FastAPI routing runs; a miss goes
through the routes below, which render, store and answer. Both paths answer the same bytes,
ETag and Cache-Control, and a 304 for a matching If-None-Match.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from services.content.api.common import SettingsDep, StateDep
from services.content.delivery_schemas import (
    ColumnItemsOut,
    MovedOut,
    PublicColumnsOut,
    PublicItemOut,
    PublicSiteOut,
)
from services.content.service import delivery
from services.content.service.cache import CachedAnswer, DeliveryCache, strong_etag
from services.content.service.common import ContentState
from services.kernel.deps import TENANT_HEADER, RequiredSiteDep, get_ctx
from services.kernel.errors import NotFound, problem_responses
from services.kernel.params import IdPath

router = APIRouter(tags=["前台内容发布（按站点）"])
PREFIX = "/api/content/v1"
DELIVERY_PATHS = (f"{PREFIX}/site", f"{PREFIX}/columns", f"{PREFIX}/items/")
_TENANT = TENANT_HEADER.encode()
_INM = b"if-none-match"


def _matches(if_none_match: str | bytes | None, etag: str) -> bool:
    if not if_none_match:
        return False
    text = if_none_match.decode("latin-1") if isinstance(if_none_match, bytes) else if_none_match
    return text.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in text.split(","))


def _headers(answer: CachedAnswer, max_age: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"etag", answer.etag.encode()),
        (b"cache-control", f"public, max-age={max_age}".encode()),
        (b"vary", b"x-jiyue-site"),
        *answer.headers,
    ]


class DeliveryCacheMiddleware:
    """Answers delivery GETs from the cache without entering FastAPI."""

    def __init__(self, app: ASGIApp, cache: DeliveryCache, max_age: int) -> None:
        self.app = app
        self.cache = cache
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith(DELIVERY_PATHS):
            await self.app(scope, receive, send)
            return
        site = inm = None
        for key, value in scope["headers"]:
            if key == _TENANT:
                site = value.decode("latin-1")
            elif key == _INM:
                inm = value
        answer = self.cache.get(site, path, scope["query_string"].decode("latin-1")) if site else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        headers = _headers(answer, self.max_age)
        if _matches(inm, answer.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else answer.body
        await send({"type": "http.response.body", "body": body})


Render = Callable[[AsyncSession], Awaitable[delivery.Rendered]]


async def _serve(request: Request, state: ContentState, max_age: int, site: str, render: Render) -> Response:
    cache = state.cache
    path, query = request.url.path, request.scope["query_string"].decode("latin-1")
    answer = cache.get(site, path, query)
    if answer is None:
        generation = cache.generation(site)
        async with get_ctx(request).db.session() as session:
            status, document, extra = await render(session)
        # exclude_unset: optional fields (the archive marks of a listing line) appear only when set
        body = orjson.dumps(document.model_dump(mode="json", exclude_unset=True))
        answer = CachedAnswer(
            status=status,
            body=body,
            etag=strong_etag(body),
            headers=tuple((k.encode(), v.encode()) for k, v in extra.items()),
        )
        cache.put(site, path, query, answer, generation)
    headers = {k.decode(): v.decode() for k, v in _headers(answer, max_age)}
    if _matches(request.headers.get("if-none-match"), answer.etag):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, status_code=answer.status, headers=headers, media_type="application/json")


DOCS: dict[int | str, dict[str, Any]] = {
    **problem_responses(NotFound),
    304: {"description": "未修改（ETag 相同）"},
}


@router.get("/site", response_model=PublicSiteOut, summary="当前站点信息与 meta", responses=DOCS)
async def site_info(
    request: Request, site: RequiredSiteDep, state: StateDep, settings: SettingsDep
) -> Response:
    return await _serve(
        request, state, settings.content_delivery_max_age, site, lambda s: delivery.render_site(s, site)
    )


@router.get("/columns", response_model=PublicColumnsOut, summary="当前站点的栏目", responses=DOCS)
async def site_columns(
    request: Request, site: RequiredSiteDep, state: StateDep, settings: SettingsDep
) -> Response:
    return await _serve(
        request, state, settings.content_delivery_max_age, site, lambda s: delivery.render_columns(s, site)
    )


@router.get(
    "/columns/{column_id}/items",
    response_model=ColumnItemsOut,
    summary="栏目中已发布的信息（分页）",
    responses=DOCS,
)
async def column_items(
    request: Request,
    column_id: IdPath,
    site: RequiredSiteDep,
    state: StateDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    return await _serve(
        request,
        state,
        settings.content_delivery_max_age,
        site,
        lambda s: delivery.render_column_items(s, site, column_id, page, size),
    )


@router.get(
    "/items/{item_id}",
    response_model=PublicItemOut,
    summary="一条已发布（或已归档）的信息；已迁移的答复 308",
    responses={**DOCS, 308: {"model": MovedOut, "description": "站点已下线，信息已迁移到门户"}},
)
async def item(
    request: Request, item_id: IdPath, site: RequiredSiteDep, state: StateDep, settings: SettingsDep
) -> Response:
    return await _serve(
        request,
        state,
        settings.content_delivery_max_age,
        site,
        lambda s: delivery.render_item(s, site, item_id),
    )
