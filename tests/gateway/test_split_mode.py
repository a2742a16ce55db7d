"""Services in other processes: streaming both ways, and one being down harms only itself."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from tests.gateway.fakes import ContentState, rig
from tests.gateway.servers import closed_port, hanging_port, serving


def resources_app(release: threading.Event | None = None) -> FastAPI:
    app = FastAPI()

    @app.post("/api/resources/v1/resources/1/attachments")
    async def upload(request: Request) -> dict[str, Any]:
        digest = hashlib.sha256()
        size = chunks = 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
        return {"size": size, "sha256": digest.hexdigest(), "site": request.headers.get("x-jiyue-site")}

    @app.get("/api/resources/v1/stream")
    async def stream() -> StreamingResponse:
        async def parts():  # type: ignore[no-untyped-def]
            yield b"first part;"
            if release is not None:  # hold the rest until the client has seen the first part
                await asyncio.to_thread(release.wait, 10)
            for i in range(200):
                yield f"{i:05d}".encode() * 1000

        return StreamingResponse(parts(), media_type="application/octet-stream")

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def sites() -> ContentState:
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    return state


async def test_remote_service_streams_both_ways(tmp_path, issuer) -> None:
    payload = b"\xe6\x94\xbf" * 2_000_000  # 6 MB

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(payload), 65536):
            yield payload[i : i + 65536]

    release = threading.Event()
    with serving(resources_app(release)) as port:
        remote = {"resources": f"http://127.0.0.1:{port}"}
        async with (
            rig(tmp_path, issuer, sites(), remote=remote) as r,
            r.client(host="jtj.example.gov.cn") as c,
        ):
            up = await c.post(
                "/api/resources/v1/resources/1/attachments", content=chunks(), headers=issuer.headers("u1")
            )
            assert up.status_code == 200
            assert up.json() == {
                "size": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "site": "jtj",
            }
            # the first part reaches the client while the service still holds the rest
            first = asyncio.Event()
            bodies: list[bytes] = []

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.body" and message.get("body"):
                    bodies.append(message["body"])
                    first.set()

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            scope = {
                "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
                "path": "/api/resources/v1/stream", "raw_path": b"/api/resources/v1/stream",
                "query_string": b"", "root_path": "", "client": ("192.0.2.1", 5000),
                "server": ("jtj.example.gov.cn", 80), "headers": [(b"host", b"jtj.example.gov.cn")],
            }  # fmt: skip
            task = asyncio.create_task(r.app(scope, receive, send))
            await asyncio.wait_for(first.wait(), 5)
            assert bodies == [b"first part;"] and not task.done()
            release.set()
            await asyncio.wait_for(task, 10)
            assert sum(map(len, bodies)) == len(b"first part;") + 200 * 5000


async def test_dead_service_answers_503_fast_and_readyz_names_it(tmp_path, issuer) -> None:
    remote = {"search": f"http://127.0.0.1:{closed_port()}"}
    async with rig(tmp_path, issuer, sites(), search=False, remote=remote) as r, r.client() as c:
        started = time.monotonic()
        resp = await c.get("/api/search/v1/search", params={"q": "交通"})
        assert time.monotonic() - started < 2.0
        assert resp.status_code == 503
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert "search" in resp.json()["detail"]
        ready = await c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["down"] == ["search"]
        assert ready.json()["services"]["content"]["status"] == "ready"
        other = await c.get("/api/content/v1/site", headers={"Host": "jtj.example.gov.cn"})
        assert other.status_code == 200 and other.json()["site"] == "jtj"
        metrics = (await c.get("/metrics")).text
        assert 'jiyue_gateway_upstream_errors_total{kind="connect",service="search"} 1.0' in metrics


async def test_hanging_service_times_out_into_503_and_then_fails_fast(tmp_path, issuer) -> None:
    with hanging_port() as port:
        remote = {"search": f"http://127.0.0.1:{port}"}
        async with (
            rig(tmp_path, issuer, sites(), search=False, remote=remote, gateway_upstream_timeout=1.0) as r,
            r.client() as c,
        ):
            started = time.monotonic()
            first = await c.get("/api/search/v1/search", params={"q": "a"})
            assert first.status_code == 503 and time.monotonic() - started < 2.0
            started = time.monotonic()
            second = await c.get("/api/search/v1/search", params={"q": "b"})
            assert second.status_code == 503 and time.monotonic() - started < 0.2  # circuit open
            other = await c.get("/api/content/v1/items/1", headers={"Host": "jtj.example.gov.cn"})
            assert other.status_code == 200


def replica_app(name: str) -> FastAPI:
    app = FastAPI()

    @app.get("/api/resources/v1/who")
    async def who() -> dict[str, str]:
        return {"replica": name}

    @app.post("/api/resources/v1/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"replica": name, "size": len(await request.body())}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


async def test_replicas_behind_the_gateway_share_load_and_cover_for_a_dead_one(tmp_path, issuer) -> None:
    with serving(replica_app("a")) as port_a, serving(replica_app("b")) as port_b:
        dead = closed_port()
        urls = f"http://127.0.0.1:{port_a}, http://127.0.0.1:{dead},http://127.0.0.1:{port_b}"
        # No breaker pause: every third request tries the dead replica first and must move on.
        async with (
            rig(tmp_path, issuer, sites(), remote={"resources": urls}, gateway_breaker_seconds=0) as r,
            r.client() as c,
        ):
            answers = [await c.get("/sites/jtj/api/resources/v1/who") for _ in range(12)]
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            seen = [a.json()["replica"] for a in answers]
            assert set(seen) == {"a", "b"} and min(seen.count("a"), seen.count("b")) >= 4
            # Writes are retried only where nothing was sent: the dead replica never got it.
            posts = [await c.post("/sites/jtj/api/resources/v1/echo", content=b"x" * 1000) for _ in range(6)]
            assert [p.json()["size"] for p in posts] == [1000] * 6
