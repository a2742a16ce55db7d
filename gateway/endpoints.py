"""The gateway's own endpoints: health, readiness, merged OpenAPI, docs, metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.openapi import merge_openapi
from services.kernel.app import install_error_handlers

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("jiyue.gateway")
PROBE_TIMEOUT = 2.0


def own_app(gateway: Gateway) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        return await readiness(gateway)

    @app.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(await merged_openapi(gateway))

    @app.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="集约化平台 API")

    @app.get("/metrics")
    async def metrics() -> Response:
        await refresh_feed_gauges(gateway)
        return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def readiness(gateway: Gateway) -> JSONResponse:
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


async def merged_openapi(gateway: Gateway) -> dict[str, Any]:
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
    if len(docs) == len(gateway.upstreams):
        gateway.openapi_doc = merged
    return merged


async def refresh_feed_gauges(gateway: Gateway) -> None:
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
