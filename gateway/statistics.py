"""The gateway's access events, handed to oversight in batches for the visit statistics.

Off the request path: a request only appends a small tuple; a background task posts batches.
The buffer is bounded — when oversight is down for long, the oldest events are dropped and
counted (statistics may lose a little; the gateway's memory may not grow without bound).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from prometheus_client import Counter

from services.kernel import clock
from services.kernel.client import ServiceDirectory

log = logging.getLogger("jiyue.gateway.statistics")

DROPPED = Counter(
    "jiyue_gateway_access_events_dropped_total", "Access events dropped before oversight took them"
)


class AccessEvents:
    def __init__(
        self,
        directory: ServiceDirectory,
        *,
        max_buffer: int = 100_000,
        batch: int = 2000,
        interval: float = 1.0,
    ) -> None:
        self.directory = directory
        self.batch = batch
        self.interval = interval
        self._buffer: deque[dict[str, Any]] = deque(maxlen=max_buffer)
        self._wake = asyncio.Event()

    def add(self, *, client: str, method: str, path: str, status: int, site: str | None) -> None:
        if site is None or method not in ("GET", "HEAD"):
            return  # only page views of a site count
        if len(self._buffer) == self._buffer.maxlen:
            DROPPED.inc()
        self._buffer.append(
            {
                "ts": clock.to_wire(clock.now()),
                "client": client,
                "method": method,
                "path": path[:2000],
                "status": status,
                "site": site,
            }
        )
        if len(self._buffer) >= self.batch:
            self._wake.set()

    async def flush(self) -> int:
        sent = 0
        while self._buffer:
            events = [self._buffer.popleft() for _ in range(min(self.batch, len(self._buffer)))]
            try:
                resp = await self.directory.client("oversight").post(
                    "/api/oversight/v1/access-events", json={"events": events}
                )
                resp.raise_for_status()
            except Exception as exc:
                self._buffer.extendleft(reversed(events))  # kept for the next round, oldest first
                log.warning("oversight did not take %d access events: %s", len(events), exc)
                return sent
            sent += len(events)
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            await self.flush()
        await self.flush()
