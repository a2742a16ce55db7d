"""The gateway: the platform's one door and its composition root.

It is a plain ASGI callable rather than a FastAPI app so that routing a request costs a
prefix check and a dict lookup; its own few endpoints live in a small FastAPI app beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

from gateway import registry
from gateway.openapi import merge_openapi
from gateway.settings import GatewaySettings
from gateway.tenancy import SiteEntry, SiteRegistry
from gateway.upstream import LocalUpstream, RemoteUpstream, Upstream
from services.kernel.app import RequestIdMiddleware, install_error_handlers, problem_response
from services.kernel.deps import CLIENT_IP_HEADER, TENANT_HEADER
from services.kernel.errors import PROBLEM_BASE, Problem
from services.kernel.logs import configure_logging, request_id_var
from services.kernel.runtime import make_directory

log = logging.getLogger("jiyue.gateway")

_TENANT_HEADER_B = TENANT_HEADER.encode()
_CLIENT_IP_HEADER_B = CLIENT_IP_HEADER.encode()
_GATEWAY_ONLY = (_TENANT_HEADER_B, _CLIENT_IP_HEADER_B)
DEFAULT_PLATFORM_HOSTS = ["localhost", "127.0.0.1", "::1", "testserver", "gateway"]


def _not_found(path: str, detail: str) -> Any:
    return problem_response(
        Problem(
            type=PROBLEM_BASE + "not-found",
            title="资源不存在",
            status=404,
            detail=detail,
            instance=path,
            request_id=request_id_var.get(),
        )
    )


class Gateway:
    def __init__(self, settings: GatewaySettings, services: list[str] | None = None) -> None:
        self.settings = settings
        configure_logging(settings.log_level, settings.log_json)
        self.directory = make_directory(settings)
        self.upstreams: dict[str, Upstream] = {}
        self.local_apps: dict[str, FastAPI] = {}
        for spec in registry.SERVICES:
            if services is not None and spec.name not in services:
                continue
            url = settings.gateway_backends.get(spec.name)
            if url:
                self.upstreams[spec.name] = RemoteUpstream(
                    spec.name,
                    url,
                    timeout=settings.gateway_upstream_timeout,
                    connect_timeout=settings.gateway_connect_timeout,
                )
                self.directory.register_url(spec.name, url)
            else:
                module = spec.app_module
                service_settings = module.settings_class(**self._shared_settings())
                app = module.create_app(service_settings, directory=self.directory)
                self.local_apps[spec.name] = app
                self.upstreams[spec.name] = LocalUpstream(spec.name, app)
                self.directory.register_app(spec.name, app)
        hosts = [*DEFAULT_PLATFORM_HOSTS, *settings.gateway_platform_hosts]
        from urllib.parse import urlsplit

        public_host = urlsplit(settings.public_url).hostname
        if public_host:
            hosts.append(public_host)
        self.sites = SiteRegistry(self.directory, hosts)
        self.own = self._own_app()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._openapi: dict[str, Any] | None = None

    def _shared_settings(self) -> dict[str, Any]:
        """Values the gateway was configured with that every in-process service must share."""
        return {
            k: v
            for k, v in self.settings.model_dump().items()
            if k in self.settings.model_fields_set and not k.startswith("gateway_")
        }

    # -- own endpoints ----------------------------------------------------------------

    def _own_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        install_error_handlers(app)
        gateway = self

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/readyz")
        async def readyz() -> JSONResponse:
            return await gateway.readiness()

        @app.get("/openapi.json")
        async def openapi() -> JSONResponse:
            return JSONResponse(await gateway.openapi())

        @app.get("/docs")
        async def docs() -> HTMLResponse:
            return get_swagger_ui_html(openapi_url="/openapi.json", title="集约化平台 API")

        return app

    async def readiness(self) -> JSONResponse:
        results: dict[str, Any] = {}

        async def probe(name: str, upstream: Upstream) -> None:
            try:
                client = self.directory.raw(name)
                resp = await asyncio.wait_for(client.get("/readyz"), timeout=2.0)
                body = resp.json()
                results[name] = {
                    "status": "ready" if resp.status_code == 200 else "not-ready",
                    **body,
                }
            except Exception as exc:
                results[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:200]}

        await asyncio.gather(*(probe(n, u) for n, u in self.upstreams.items()))
        results["gateway"] = {
            "status": "ready" if self.sites.loaded or "content" not in self.upstreams else "not-ready",
            "sites": len(self.sites.by_code),
            "registry_error": self.sites.last_error,
        }
        ok = all(r.get("status") == "ready" for r in results.values())
        return JSONResponse(
            {"status": "ready" if ok else "not-ready", "services": results},
            status_code=200 if ok else 503,
        )

    async def openapi(self) -> dict[str, Any]:
        if self._openapi is not None:
            return self._openapi
        docs: dict[str, dict[str, Any]] = {}
        for name in self.upstreams:
            if name in self.local_apps:
                docs[name] = self.local_apps[name].openapi()
            else:
                try:
                    resp = await self.directory.raw(name).get("/openapi.json")
                    docs[name] = resp.json()
                except Exception as exc:
                    log.warning("no OpenAPI from %s: %s", name, exc)
                    continue
        merged = merge_openapi(docs, title="集约化平台 Jiyue", version="1.0.0")
        if len(docs) == len(self.upstreams):
            self._openapi = merged
        return merged

    # -- lifespan ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in self.local_apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            with contextlib.suppress(Exception):
                await self.sites.load()
            self._stop.clear()
            self._tasks = [asyncio.create_task(self.sites.follow(self._stop))]
            try:
                yield
            finally:
                self._stop.set()
                for t in self._tasks:
                    t.cancel()
                for upstream in self.upstreams.values():
                    if isinstance(upstream, RemoteUpstream):
                        await upstream.aclose()
                await self.directory.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        cm = self.lifespan()
        try:
            await cm.__aenter__()
        except BaseException as exc:
            log.exception("gateway start failed")
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await cm.__aexit__(None, None, None)
        await send({"type": "lifespan.shutdown.complete"})

    # -- routing ----------------------------------------------------------------------

    def route(self, path: str) -> str | None:
        if path.startswith("/api/"):
            end = path.find("/", 5)
            name = path[5:end] if end != -1 else path[5:]
            return name if name in self.upstreams else None
        if path.startswith("/.well-known/"):
            return "identity"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        host = ""
        headers: list[tuple[bytes, bytes]] = []
        for key, value in scope["headers"]:
            if key in _GATEWAY_ONLY:
                continue  # only the gateway says which tenant and which client a request is
            if key == b"host":
                host = value.decode("latin-1")
            headers.append((key, value))

        site: SiteEntry | None = None
        if path.startswith("/sites/"):
            code, _, rest = path[7:].partition("/")
            site = self.sites.by_code.get(code)
            if site is None:
                await _not_found(path, f"站点 {code} 不存在")(scope, receive, send)
                return
            path = "/" + rest
        elif host and not self.sites.is_platform_host(host):
            site = self.sites.resolve_host(host)
            if site is None:
                await _not_found(path, f"未知站点域名 {host}")(scope, receive, send)
                return

        target = self.route(path)
        if target is None:
            await self.own(dict(scope, path=path, raw_path=path.encode()), receive, send)
            return
        if site is not None:
            headers.append((_TENANT_HEADER_B, site.code.encode()))
        client = scope.get("client")
        if client:
            headers.append((_CLIENT_IP_HEADER_B, str(client[0]).encode()))
        child = dict(scope, path=path, raw_path=path.encode(), headers=headers)
        await self.upstreams[target](child, receive, send)


def create_gateway(settings: GatewaySettings | None = None, services: list[str] | None = None) -> Any:
    gateway = Gateway(settings or GatewaySettings(), services)
    app = RequestIdMiddleware(gateway)
    app.gateway = gateway  # type: ignore[attr-defined]
    return app
