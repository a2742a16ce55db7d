"""The gateway's own cost: the same request to a service app directly and through the gateway.

Both go through the same minimal ASGI driver (no sockets, no HTTP client), interleaved so that
drift of a shared machine hits both alike. The service is a delivery stand-in built with the
kernel's service factory (same middleware as every service), answering documents from
memory, so the difference is the gateway: tenant resolution, token/rate-limit checks,
security headers, metrics, the access log (written to /dev/null), and optionally its cache.

    .venv/bin/python -m bench.gateway [--quick]
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from bench.common import Row, latency_row, print_table
from gateway.app import Gateway
from gateway.settings import GatewaySettings
from gateway.tenancy import SiteEntry
from services.kernel.app import RequestIdMiddleware, create_service_app
from services.kernel.runtime import build_context
from services.kernel.settings import ServiceSettings

SEED = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "seed"
    / "dandong-2019-43-government-website-measures.txt"
)
SITE = SiteEntry(code="jtj", name="示范市交通运输局", domains=["jtj.example.gov.cn"])
COMMAND = ".venv/bin/python -m bench.gateway"


def article_text() -> str:
    if SEED.exists():
        return SEED.read_text(encoding="utf-8")[:3000]
    return "各级政府网站应当按照集约化要求统一建设、统一管理。" * 100


def documents() -> dict[str, Any]:
    body = article_text()
    items = [
        {
            "id": i,
            "title": f"关于做好政府网站集约化工作的通知（第{i}号）",
            "column_id": 3,
            "published_at": "2026-11-20T09:00:00+08:00",
            "url": f"/api/content/v1/items/{i}",
        }
        for i in range(1, 21)
    ]
    return {
        "item": {**items[0], "site": SITE.code, "body_html": f"<p>{body}</p>", "meta": {"site": SITE.name}},
        "list": {"items": items, "total": 1200, "page": 1, "size": 20},
        "site": {"code": SITE.code, "name": SITE.name, "columns": [{"id": 3, "name": "通知公告"}]},
        "search": {
            "total": 57,
            "items": [{**it, "snippet": "<em>集约化</em>" + body[:120]} for it in items[:10]],
        },
    }


def delivery_standin(data_dir: Path, service: str = "content") -> FastAPI:
    """A real kernel service app whose delivery routes answer prepared documents."""
    docs = documents()
    router = APIRouter()
    if service == "content":

        @router.get("/site")
        async def site() -> dict[str, Any]:
            return docs["site"]  # type: ignore[no-any-return]

        @router.get("/columns/{column_id}/items")
        async def column_items(column_id: int) -> dict[str, Any]:
            return docs["list"]  # type: ignore[no-any-return]

        @router.get("/items/{item_id}")
        async def item(item_id: int) -> dict[str, Any]:
            return docs["item"]  # type: ignore[no-any-return]

    else:

        @router.get("/search")
        async def search(q: str = "") -> dict[str, Any]:
            return docs["search"]  # type: ignore[no-any-return]

    settings = ServiceSettings(data_dir=data_dir, service_name=service)
    ctx = build_context(service, settings, feed=None, run_workers=False)
    return create_service_app(ctx, [router], title=f"{service} stand-in")


def bench_gateway(data_dir: Path, *, cache: bool) -> tuple[Any, FastAPI, FastAPI]:
    settings = GatewaySettings(
        data_dir=data_dir,
        internal_client_secret=secrets.token_urlsafe(32),
        gateway_cache=cache,
        # one client floods; the limiter still runs but never refuses
        gateway_rate_address_per_second=1e9,
        gateway_rate_address_burst=1e9,
    )
    gateway = Gateway(settings, services=[])
    content = delivery_standin(data_dir, "content")
    search = delivery_standin(data_dir, "search")
    gateway.add_local("content", content)
    gateway.add_local("search", search)
    gateway.sites.replace([SITE])
    return RequestIdMiddleware(gateway), content, search


def quiet_access_log() -> None:
    """Keep the access log's full cost (formatting, a write per request), not its noise."""
    log = logging.getLogger("jiyue.access")
    log.handlers[:] = [logging.StreamHandler(open(os.devnull, "w"))]
    log.propagate = False
    log.setLevel(logging.INFO)


def scope_for(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("192.0.2.10", 50000),
        "server": ("jtj.example.gov.cn", 80),
    }


async def call(app: Any, scope: dict[str, Any]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(
    pairs: list[tuple[str, Any, dict[str, Any]]], n: int, warmup: int
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name, _, _ in pairs}
    for i in range(warmup + n):
        for name, app, scope in pairs:
            t0 = time.perf_counter()
            status = await call(app, scope)
            elapsed = time.perf_counter() - t0
            if status != 200:
                raise RuntimeError(f"{name}: status {status}")
            if i >= warmup:
                samples[name].append(elapsed)
    return samples


async def _run(quick: bool) -> list[Row]:
    n, warmup = (1500, 200) if quick else (20000, 1000)
    quiet_access_log()
    path = "/api/content/v1/items/1"
    via_gateway = [(b"host", b"jtj.example.gov.cn"), (b"accept", b"application/json")]
    direct_headers = [*via_gateway, (b"x-jiyue-site", b"jtj"), (b"x-jiyue-client-ip", b"192.0.2.10")]
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        plain, content, _ = bench_gateway(Path(tmp) / "a", cache=False)
        cached, content_b, _ = bench_gateway(Path(tmp) / "b", cache=True)
        async with content.router.lifespan_context(content), content_b.router.lifespan_context(content_b):
            samples = await measure(
                [
                    ("direct: service app", content, scope_for(path, direct_headers)),
                    ("gateway → service (cache off)", plain, scope_for(path, via_gateway)),
                    ("gateway, cache hit", cached, scope_for(path, via_gateway)),
                ],
                n,
                warmup,
            )
    direct = statistics.median(samples["direct: service app"]) * 1000
    rows: list[Row] = []
    for name, seconds in samples.items():
        row = latency_row(name, seconds, command=COMMAND + (" --quick" if quick else ""))
        if name != "direct: service app":
            overhead = row["median_ms"] - direct
            row["note"] = f"median overhead vs direct: {overhead:+.3f} ms ({path}, in-process, ASGI driver)"
            if "cache off" in name:
                row["target"] = "overhead ≤ 1 ms median"
                row["met"] = overhead <= 1.0
        row["throughput"] = round(len(seconds) / sum(seconds), 1)
        row["unit"] = "req/s (1 at a time)"
        rows.append(row)
    return rows


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    print_table(run(quick="--quick" in sys.argv))
