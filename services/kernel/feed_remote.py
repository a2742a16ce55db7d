"""Reading another service's change feed over its API (`/changes`), as a consumer's `fetch`."""

from __future__ import annotations

from typing import Any

from services.kernel.client import ServiceDirectory
from services.kernel.errors import FeedCursorExpired
from services.kernel.feed import FeedEvent


class RemoteFeed:
    """Reads another service's `/changes` over its API, naming the consumer that reads."""

    def __init__(
        self,
        directory: ServiceDirectory,
        source: str,
        topics: list[str] | None = None,
        consumer: str | None = None,
    ) -> None:
        self.directory = directory
        self.source = source
        self.topics = topics
        self.consumer = consumer

    def named(self, consumer: str) -> RemoteFeed:
        return RemoteFeed(self.directory, self.source, self.topics, consumer)

    async def __call__(self, after: int, limit: int) -> tuple[list[FeedEvent], int]:
        params: dict[str, Any] = {"after": after, "limit": limit}
        if self.topics:
            params["topics"] = ",".join(self.topics)
        if self.consumer:
            params["consumer"] = self.consumer
        resp = await self.directory.client(self.source).get(f"/api/{self.source}/v1/changes", params=params)
        if resp.status_code == 410:
            body = resp.json()
            raise FeedCursorExpired(body.get("detail"), extra=body.get("extra") or {})
        resp.raise_for_status()
        body = resp.json()
        return [FeedEvent.from_json(e) for e in body["items"]], int(body["head"])
