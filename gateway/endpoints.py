"""The gateway's own endpoints: health, readiness, merged OpenAPI, docs, metrics.

They answer on any Host (the kubelet probes a pod by its IP). Readiness details and metrics
describe the platform's insides, so a caller outside its networks, on a site's public domain,
gets a bare readiness status and no metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any, Protocol

import swagger_ui
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from gateway.metrics import GatewayMetrics
from gateway.openapi import merge_openapi
from gateway.tenancy import SiteRegistry
from gateway.upstream import Upstream
from services.kernel.app import install_error_handlers
from services.kernel.client import ServiceDirectory
from services.kernel.errors import NotFound

log = logging.getLogger("jiyue.gateway")
PROBE_TIMEOUT = 2.0
# Set by the gateway on requests from its own networks or to a platform host.
OPERATOR_SCOPE_KEY = "jiyue.operator"
OPERATOR_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"})
DOCS_ASSETS = "/docs/assets"
# Swagger UI from a pinned package (swagger-ui-py), so /docs works on a network without the internet.
SWAGGER_STATIC = Path(swagger_ui.__file__).parent / "static"


class Platform(Protocol):
    """What the endpoints read of the gateway."""

    directory: ServiceDirectory
    upstreams: dict[str, Upstream]
    local_apps: dict[str, FastAPI]
    sites: SiteRegistry
    metrics: GatewayMetrics
    openapi_doc: dict[str, Any] | None


def is_operator_path(path: str) -> bool:
    return path in OPERATOR_PATHS or path.startswith(DOCS_ASSETS + "/")


def own_app(gateway: Platform) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_STATIC), name="docs-assets")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        answer = await readiness(gateway)
        if request.scope.get(OPERATOR_SCOPE_KEY):
            return answer
        bare = {"status": "ready" if answer.status_code == 200 else "not-ready"}
        return JSONResponse(bare, status_code=answer.status_code)

    @app.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(await merged_openapi(gateway))

    @app.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="集约化平台 API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        if not request.scope.get(OPERATOR_SCOPE_KEY):
            raise NotFound("指标只对平台内部网络与平台域名开放")
        await refresh_feed_gauges(gateway)
        # The services running in this process keep their gauges (subscription queue depth and
        # age, dead letters, rebuilds, pruning) in the process-wide default registry: without
        # it here an all-in-one platform's operators could not scrape them at all.
        body = generate_latest(gateway.metrics.registry) + generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app


async def readiness(gateway: Platform) -> JSONResponse:
    results: dict[str, Any] = {}

    async def probe(name: str) -> None:
        try:
            client = gateway.directory.raw(name)
            resp = await asyncio.wait_for(client.get("/readyz"), timeout=PROBE_TIMEOUT)
            body = resp.json()
            results[name] = {"status": "ready" if resp.status_code == 200 else "not-ready", **body}
        except Exception as exc:
            results[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:200]}

    await asyncio.gather(*(probe(n) for n in gateway.upstreams))
    sites = gateway.sites
    results["gateway"] = {
        "status": "ready" if sites.loaded or "content" not in gateway.upstreams else "not-ready",
        "sites": len(sites.by_code),
        "registry_error": sites.last_error,
        "feed_lag": max(0, sites.head - sites.cursor),
    }
    down = sorted(n for n, r in results.items() if r.get("status") != "ready")
    return JSONResponse(
        {"status": "not-ready" if down else "ready", "down": down, "services": results},
        status_code=503 if down else 200,
    )


async def merged_openapi(gateway: Platform) -> dict[str, Any]:
    if gateway.openapi_doc is not None:
        return gateway.openapi_doc
    docs: dict[str, dict[str, Any]] = {}
    for name in gateway.upstreams:
        if name in gateway.local_apps:
            docs[name] = gateway.local_apps[name].openapi()
            continue
        try:
            resp = await asyncio.wait_for(gateway.directory.raw(name).get("/openapi.json"), PROBE_TIMEOUT)
            docs[name] = resp.json()
        except Exception as exc:
            log.warning("no OpenAPI from %s: %s", name, exc)
    merged = merge_openapi(docs, title="集约化平台 Jiyue", version="1.0.0")
    gateway.metrics.routes.add(merged.get("paths", {}))
    if len(docs) == len(gateway.upstreams):
        gateway.openapi_doc = merged
    return merged


async def learn_routes(gateway: Platform, stop: asyncio.Event, retry_seconds: float = 5.0) -> None:
    """Fill the metrics' route table from every remote service's OpenAPI (they may start later)."""
    while gateway.openapi_doc is None and not stop.is_set():
        await merged_openapi(gateway)
        if gateway.openapi_doc is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry_seconds)


async def refresh_feed_gauges(gateway: Platform) -> None:
    """Feed lags as of this scrape: every in-process consumer, and the gateway's own reader."""
    m = gateway.metrics
    sites = gateway.sites
    m.feed_lag.labels("gateway", "site-registry").set(max(0, sites.head - sites.cursor))
    m.feed_position.labels("gateway", "site-registry").set(sites.cursor)
    m.sites.set(len(sites.by_code))
    for name, app in gateway.local_apps.items():
        ctx = getattr(app.state, "ctx", None)
        for consumer in getattr(ctx, "consumers", []):
            try:
                status = await asyncio.wait_for(consumer.status(), PROBE_TIMEOUT)
            except Exception as exc:
                log.warning("feed status of %s/%s: %s", name, consumer.name, exc)
                continue
            m.feed_lag.labels(name, consumer.name).set(status.get("lag", 0))
            m.feed_position.labels(name, consumer.name).set(status.get("position", 0))
            if "lag_seconds" in status:
                m.feed_lag_seconds.labels(name, consumer.name).set(status["lag_seconds"])
            if isinstance(status.get("peer"), str):
                m.peer_follower(status["peer"], status)
