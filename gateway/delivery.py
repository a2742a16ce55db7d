"""One public delivery / search GET: revalidation (ETag → 304), Cache-Control, cache fill.

The answer is held back until it is complete (it is small: one JSON document) so that an ETag
can be computed when the service did not send one; an answer larger than the cache's limit is
streamed on as it comes, unchanged but for Cache-Control.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from starlette.types import Message, Send

from gateway.cache import CacheKey, Entry, ResponseCache, etag_matches, make_etag

if TYPE_CHECKING:
    from gateway.metrics import GatewayMetrics

# What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5).
_KEPT_ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"expires", b"content-location", b"date"})


async def _send_not_modified(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    kept = [(k, v) for k, v in headers if k in _KEPT_ON_304]
    await send({"type": "http.response.start", "status": 304, "headers": kept})
    await send({"type": "http.response.body", "body": b""})


async def send_entry(send: Send, entry: Entry, if_none_match: bytes | None, metrics: GatewayMetrics) -> None:
    headers = [*entry.headers, (b"x-jiyue-cache", b"hit")]
    if if_none_match is not None and etag_matches(if_none_match, entry.etag):
        metrics.not_modified.inc()
        await _send_not_modified(send, headers)
        return
    headers.append((b"content-length", str(len(entry.body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})


class CachedExchange:
    def __init__(
        self,
        send: Send,
        *,
        cache: ResponseCache | None,
        key: CacheKey,
        kind: str,
        generation: int,
        cache_control: bytes,
        if_none_match: bytes | None,
        max_body: int,
        metrics: GatewayMetrics,
    ) -> None:
        self._send = send
        self.cache = cache
        self.key = key
        self.kind = kind
        self.generation = generation
        self.cache_control = cache_control
        self.if_none_match = if_none_match
        self.max_body = max_body
        self.metrics = metrics
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.held = 0
        self.streaming = False
        self.done = False

    def _headers(self) -> list[tuple[bytes, bytes]]:
        assert self.start is not None
        headers = list(self.start.get("headers", ()))
        if not any(k == b"cache-control" for k, _ in headers):
            headers.append((b"cache-control", self.cache_control))
        return headers

    async def send(self, message: Message) -> None:
        if self.streaming:
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            self.start = message
            if message["status"] != 200:
                self.streaming = True  # errors and redirects pass as they are
                await self._send({**message, "headers": self._headers()})
            return
        body = message.get("body", b"")
        if body:
            self.chunks.append(body)
            self.held += len(body)
        if not message.get("more_body", False):
            self.done = True
            return
        if self.held > self.max_body:
            self.streaming = True
            await self._send({**self.start, "headers": self._headers()})  # type: ignore[dict-item]
            for chunk in self.chunks:
                await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
            self.chunks.clear()

    async def finish(self) -> None:
        if self.streaming or self.start is None or not self.done:
            return
        body = b"".join(self.chunks)
        headers = [(k, v) for k, v in self._headers() if k != b"content-length"]
        etag = next((v for k, v in headers if k == b"etag"), None)
        if etag is None:
            etag = make_etag(body)
            headers.append((b"etag", etag))
        if self.cache is not None and self.cache.put(
            self.key, self.kind, self.generation, headers, body, etag
        ):
            headers.append((b"x-jiyue-cache", b"miss"))
        if self.if_none_match is not None and etag_matches(self.if_none_match, etag):
            self.metrics.not_modified.inc()
            await _send_not_modified(self._send, headers)
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({"type": "http.response.start", "status": 200, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})


class SingleFlight:
    """Concurrent misses of one key wait for the first request to fill the cache.

    Without it, every connection that asks for an expired search in the same instant runs
    the same search on the engine (a stampede every time a short-lived entry expires).
    """

    def __init__(self) -> None:
        self._flights: dict[CacheKey, asyncio.Future[Entry | None]] = {}

    async def wait(self, key: CacheKey) -> Entry | None:
        """The entry a request already in flight for `key` produced, or None (go yourself)."""
        flight = self._flights.get(key)
        if flight is None:
            return None
        return await asyncio.shield(flight)

    @contextlib.contextmanager
    def lead(self, key: CacheKey, cache: ResponseCache) -> Iterator[None]:
        flight: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            yield
        finally:
            del self._flights[key]
            flight.set_result(cache.get(key))
