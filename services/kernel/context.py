"""What a running service holds: its settings, database, feed, peers and workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.kernel.auth import TokenVerifier
from services.kernel.client import ServiceDirectory
from services.kernel.consumer import FeedConsumer, RemoteFeed
from services.kernel.db import Database
from services.kernel.feed import FeedTables, on_emit
from services.kernel.settings import ServiceSettings

log = logging.getLogger("jiyue.context")

Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
Check = Callable[[], Awaitable[Any]]
S = TypeVar("S")


@dataclass
class ServiceContext:
    name: str
    settings: ServiceSettings
    db: Database
    directory: ServiceDirectory
    feed: FeedTables | None = None
    run_workers: bool = True
    consumers: list[FeedConsumer] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    # name -> async check that raises when the dependency is not ready
    readiness: dict[str, Check] = field(default_factory=dict)
    # Called right after a commit of this service that wrote a change-feed event, in this process:
    # the composition root (gateway) drops cached answers at once instead of at its next feed read.
    emit_listeners: list[Callable[[], None]] = field(default_factory=list)
    # The service's own typed state (a dataclass defined in the service, set once in create_app);
    # read it with `state_of(TheClass)`, never through string keys.
    state: Any = None
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    _verifier: TokenVerifier | None = None

    def state_of(self, kind: type[S]) -> S:
        if not isinstance(self.state, kind):
            raise RuntimeError(f"service {self.name!r} holds no {kind.__name__} state")
        return self.state

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            self._verifier = TokenVerifier(
                self._fetch_jwks,
                issuer=self.settings.issuer,
                audience=self.settings.token_audience,
                cache_seconds=self.settings.jwks_cache_seconds,
            )
        return self._verifier

    @verifier.setter
    def verifier(self, value: TokenVerifier) -> None:
        self._verifier = value

    async def _fetch_jwks(self) -> dict[str, Any]:
        resp = await self.directory.raw("identity").get("/.well-known/jwks.json")
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def ring_on_emit(self, consumer: FeedConsumer) -> Callable[[], None] | None:
        """Wake `consumer` right after its source commits, when the source runs in this process."""
        source = getattr(consumer.fetch, "source", None)
        app = self.directory.local_app(source) if source else None
        producer = getattr(getattr(app, "state", None), "ctx", None)
        if not isinstance(producer, ServiceContext):
            return None
        engine = producer.db.engine.sync_engine
        return consumer.ring_from(lambda wake: on_emit(engine, wake))

    def feed_fetcher(self, source: str, topics: list[str] | None = None) -> RemoteFeed:
        """A `fetch(after, limit)` reading another service's change feed over its API; the
        consumer it is handed to names itself on each read (retention counts on that)."""
        return RemoteFeed(self.directory, source, topics)
