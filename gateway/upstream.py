"""How the gateway reaches a service: its ASGI app in-process, or its URL over HTTP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kernel.app import problem_response
from services.kernel.errors import Problem, UpstreamUnavailable
from services.kernel.logs import request_id_var

log = logging.getLogger("jiyue.gateway")

_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailers",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
}


ErrorHook = Callable[[str, str], None]
STREAM_CONNECTIONS = 20_000


def wants_event_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"accept" and b"text/event-stream" in v for k, v in headers)


class Upstream:
    name: str
    local: bool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
        raise RuntimeError("abstract")


class LocalUpstream(Upstream):
    local = True

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def unavailable(send: Send, service: str, detail: str, path: str) -> None:
    problem = Problem(
        type=UpstreamUnavailable.type_uri(),
        title=UpstreamUnavailable.title,
        status=UpstreamUnavailable.status,
        detail=f"服务 {service} 暂不可用: {detail}",
        instance=path,
        request_id=request_id_var.get(),
    )
    response = problem_response(problem, {"Retry-After": "5"})
    await response({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


class RemoteUpstream(Upstream):
    """Streams the request body up and the response body down; never buffers either whole."""

    local = False

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout: float,
        connect_timeout: float,
        breaker_seconds: float = 2.0,
        on_error: ErrorHook | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.breaker_seconds = breaker_seconds
        self.on_error = on_error
        # While the service is known to be down its routes fail fast instead of each caller
        # waiting out the same connect or response timeout.
        self.open_until = 0.0
        self.last_failure = ""
        self.client = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        # Event streams (an interview's live text) hold their connection for as long as the
        # reader stays: on the shared pool a thousand readers would starve every other request.
        # Their own pool is bounded only by the readers; the read timeout still applies between
        # chunks, which the services' heartbeats (every 10 s) keep below.
        self.stream_client = httpx.AsyncClient(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=STREAM_CONNECTIONS, max_keepalive_connections=0),
        )

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.stream_client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.open(scope, receive, send)
        if response is not None:
            await self.relay(response, send)

    @property
    def is_open(self) -> bool:
        """True while the breaker holds this service (or replica) as down."""
        return bool(self.open_until) and time.monotonic() < self.open_until

    async def open(self, scope: Scope, receive: Receive, send: Send | None) -> httpx.Response | None:
        """Send the request and return the streaming response; on failure answer 503 through
        `send` (or, with `send=None`, return None having sent nothing, so a caller may try
        another replica)."""

        async def body() -> Any:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        async def fail(kind: str, detail: str) -> None:
            self.last_failure = kind
            if self.on_error is not None:
                self.on_error(self.name, kind)
            if send is not None:
                await unavailable(send, self.name, detail, scope["path"])

        if self.is_open:
            await fail("circuit-open", "刚刚连接失败，稍后重试")
            return None
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        path = scope.get("raw_path") or scope["path"].encode()
        if isinstance(path, bytes):
            path = path.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        url = path + (f"?{query}" if query else "")
        method = scope["method"]
        has_body = method not in ("GET", "HEAD", "OPTIONS", "DELETE")
        client = self.stream_client if wants_event_stream(headers) else self.client
        request = client.build_request(method, url, headers=headers, content=body() if has_body else None)
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.open_until = time.monotonic() + self.breaker_seconds
            await fail("connect", f"无法连接 ({type(exc).__name__})")
            return None
        except httpx.TimeoutException:
            self.open_until = time.monotonic() + self.breaker_seconds
            await fail("timeout", "响应超时")
            return None
        except httpx.HTTPError as exc:
            await fail("protocol", type(exc).__name__)
            return None
        return response

    async def relay(self, response: httpx.Response, send: Send) -> None:
        self.open_until = 0.0
        try:
            out_headers = [
                (k.lower(), v)
                for k, v in response.headers.raw
                if k.lower() not in _HOP_BY_HOP or k.lower() == b"content-length"
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": out_headers,
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()


# Failures after which the request provably never left the gateway.
_NOTHING_SENT = frozenset({"connect", "circuit-open"})


class ReplicaSet(Upstream):
    """Several processes of one service behind the gateway, as one.

    Requests go round-robin to replicas whose breaker is closed. A replica that cannot be
    connected to has received nothing, so the same request is tried on the next one; only
    when every replica fails does the caller get a 503.
    """

    local = False

    def __init__(self, name: str, replicas: list[RemoteUpstream]) -> None:
        self.name = name
        self.replicas = replicas
        self._next = 0

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        count = len(self.replicas)
        start = self._next
        self._next = (start + 1) % count
        order = [self.replicas[(start + i) % count] for i in range(count)]
        order.sort(key=lambda r: r.is_open)  # healthy first, keeping the rotation among them
        for replica in order[:-1]:
            response = await replica.open(scope, receive, None)
            if response is not None:
                await replica.relay(response, send)
                return
            if replica.last_failure not in _NOTHING_SENT:
                # The request reached that replica (it timed out or broke mid-answer): trying
                # it again elsewhere could apply a write twice, so the caller gets the 503.
                await unavailable(send, self.name, replica.last_failure, scope["path"])
                return
        last = order[-1]
        response = await last.open(scope, receive, send)
        if response is not None:
            await last.relay(response, send)
