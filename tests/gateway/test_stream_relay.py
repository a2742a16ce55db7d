"""A service's event stream relayed by a remote upstream (split mode): each event passes as it
is written, and long-lived streams do not take the pool ordinary requests share."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gateway.upstream import RemoteUpstream
from tests.gateway.servers import serving

STREAMS = 210  # more than the shared pool's 200 connections


def _sse_app(release: threading.Event) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/ping":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"id: 1\ndata: first\n\n", "more_body": True})
        await asyncio.to_thread(release.wait, 60)
        await send({"type": "http.response.body", "body": b"id: 2\ndata: second\n\n", "more_body": False})

    return app


Opened = list[tuple[httpx.Response, AsyncIterator[bytes]]]


async def _first_event(client: httpx.AsyncClient, opened: Opened) -> bytes:
    request = client.build_request("GET", "/stream", headers={"Accept": "text/event-stream"})
    resp = await client.send(request, stream=True)
    chunks = resp.aiter_raw()
    opened.append((resp, chunks))
    return await anext(chunks)


async def test_events_pass_as_written_and_streams_have_their_own_pool() -> None:
    release = threading.Event()
    with serving(_sse_app(release), lifespan="off") as service_port:
        upstream = RemoteUpstream("svc", f"http://127.0.0.1:{service_port}", timeout=15, connect_timeout=30)

        async def relay(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                await upstream(scope, receive, send)

        with serving(relay, lifespan="off") as relay_port:
            limits = httpx.Limits(max_connections=STREAMS + 10)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{relay_port}", limits=limits, timeout=30
            ) as client:
                opened: Opened = []
                try:
                    # Every reader has its first event while the service still holds the stream open:
                    # a relay that buffered would give none of them anything until the release.
                    firsts = await asyncio.wait_for(
                        asyncio.gather(*(_first_event(client, opened) for _ in range(STREAMS))), 60
                    )
                    assert set(firsts) == {b"id: 1\ndata: first\n\n"}
                    ping = await client.get("/ping")  # ordinary requests still find a connection
                    assert ping.status_code == 200 and ping.text == "ok"
                    release.set()
                    rests = [b"".join([chunk async for chunk in chunks]) for _, chunks in opened]
                    assert set(rests) == {b"id: 2\ndata: second\n\n"}
                finally:
                    release.set()
                    for resp, _ in opened:
                        await resp.aclose()
        await upstream.aclose()
