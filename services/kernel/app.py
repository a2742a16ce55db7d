"""The app factory every service uses: errors as problem+json, request ids, health, feed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.context import ServiceContext
from services.kernel.errors import (
    PROBLEM_BASE,
    PROBLEM_MEDIA_TYPE,
    BadRequest,
    Forbidden,
    HttpError,
    JiyueError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from services.kernel.feed import on_emit
from services.kernel.feed_api import changes_router, dead_letters_router, feed_pruner
from services.kernel.logs import configure_logging, request_id_var

log = logging.getLogger("jiyue.app")

# Starlette's own HTTP errors (unknown path, wrong method, ...) in the platform's vocabulary.
_HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    err.status: (err.slug, err.title)
    for err in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, PayloadTooLarge,
                UnsupportedMediaType)
}  # fmt: skip
_HTTP_PROBLEMS[404] = (NotFound.slug, "请求的路径不存在")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _field_path(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:] or parts
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    async def on_jiyue_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, JiyueError)
        problem = exc.to_problem(instance=request.url.path, request_id=request_id_var.get())
        return problem_response(problem, exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = []
        for err in exc.errors():
            field = _field_path(err.get("loc", ()))
            kind = err.get("type", "")
            if kind == "json_invalid":
                message = f"JSON 格式错误: {err.get('ctx', {}).get('error', err.get('msg'))}"
                field = "body"
            elif kind == "missing":
                message = "缺少必填字段"
            else:
                message = str(err.get("msg", "格式不正确"))
            errors.append({"field": field, "message": message, "type": kind})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)[:500]
        problem = Problem(
            type=ValidationFailed.type_uri(),
            title=ValidationFailed.title,
            status=422,
            detail=detail,
            instance=request.url.path,
            request_id=request_id_var.get(),
            errors=errors,
        )
        return problem_response(problem)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug, title = _HTTP_PROBLEMS.get(exc.status_code, (HttpError.slug, HttpError.title))
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail in (None, "Not Found"):
            detail = f"路径 {request.url.path} 不存在"
        problem = Problem(
            type=PROBLEM_BASE + slug,
            title=title,
            status=exc.status_code,
            detail=detail,
            instance=request.url.path,
            request_id=request_id_var.get(),
        )
        return problem_response(problem, dict(exc.headers or {}))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(
            type=JiyueError.type_uri(),
            title=JiyueError.title,
            status=500,
            detail="服务器处理请求时出错，已记录；请凭 request_id 联系平台运维。",
            instance=request.url.path,
            request_id=request_id_var.get(),
        )
        return problem_response(problem)

    app.add_exception_handler(JiyueError, on_jiyue_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID (or makes one) and returns it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                rid = value.decode("latin-1")[:64]
                break
        if rid is None:
            rid = uuid.uuid4().hex
            # Put it on the request too, so in-process services behind us log the same id.
            scope = dict(scope, headers=[*scope["headers"], (b"x-request-id", rid.encode())])
        token = request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


async def readiness_report(ctx: ServiceContext) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    ok = True

    async def run(name: str, check: Any) -> None:
        nonlocal ok
        started = time.perf_counter()
        try:
            detail = await asyncio.wait_for(check(), timeout=2.0)
            checks[name] = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
            if isinstance(detail, dict):
                checks[name].update(detail)
        except Exception as exc:
            ok = False
            checks[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:200]}

    await run("database", ctx.db.ping)
    for name, check in ctx.readiness.items():
        await run(name, check)
    for consumer in ctx.consumers:
        try:
            checks[f"feed:{consumer.name}"] = await consumer.status()
        except Exception as exc:
            checks[f"feed:{consumer.name}"] = {"status": "unknown", "error": str(exc)[:200]}
    return ok, checks


def create_service_app(
    ctx: ServiceContext,
    routers: Sequence[APIRouter],
    *,
    title: str,
    description: str = "",
    root_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """A service's FastAPI app: every router under /api/{name}/v1, health at the root."""
    configure_logging(ctx.settings.log_level, ctx.settings.log_json)
    prefix = f"/api/{ctx.name}/v1"

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in ctx.on_startup:
            await hook()
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        bells: list[Any] = []
        for listener in ctx.emit_listeners:
            bells.append(on_emit(ctx.db.engine.sync_engine, listener))
        if ctx.run_workers:
            for consumer in ctx.consumers:
                tasks.append(asyncio.create_task(consumer.run_forever(stop), name=consumer.name))
                bells.append(ctx.ring_on_emit(consumer))
            for worker in ctx.workers:
                tasks.append(asyncio.create_task(worker(stop)))
        app.state.worker_tasks = tasks
        try:
            yield
        finally:
            stop.set()
            for off in bells:
                if off is not None:
                    off()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=5)
                for t in pending:
                    t.cancel()
            for hook in ctx.on_shutdown:
                with contextlib.suppress(Exception):
                    await hook()
            await ctx.db.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/healthz", tags=["health"], summary="存活检查", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": ctx.name}

    @app.get("/readyz", tags=["health"], summary="就绪检查", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ok, checks = await readiness_report(ctx)
        return JSONResponse(
            {"status": "ready" if ok else "not-ready", "service": ctx.name, "checks": checks},
            status_code=200 if ok else 503,
        )

    for router in routers:
        app.include_router(router, prefix=prefix)
    if ctx.feed is not None:
        app.include_router(changes_router(ctx), prefix=prefix)
        ctx.workers.append(feed_pruner(ctx))
    if ctx.consumers:
        app.include_router(dead_letters_router(ctx), prefix=prefix)
    for consumer in ctx.consumers:
        consumer.apply_settings(ctx.settings)
    for router in root_routers:
        app.include_router(router)
    return app
