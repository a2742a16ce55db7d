"""Federation's consumers: the relay of local content events onto federation's feed, and one
follower per peer platform reading the peer's feed (its cursor here, so an outage is caught up
from where it stopped; effects idempotent by the peer's event id)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation.models import Peer, feed_tables
from services.federation.service import outward, peer_tasks, placements, registry, reports
from services.federation.service.link import PeerLink
from services.federation.service.peers import active_peers
from services.federation.state import FederationState
from services.federation.vocab import FOLLOW_TOPICS, FollowKind, Topic
from services.kernel import clock
from services.kernel.consumer import FeedConsumer
from services.kernel.context import ServiceContext, Worker
from services.kernel.errors import PeerUnavailable
from services.kernel.feed import FeedEvent

log = logging.getLogger("jiyue.federation")
CONTENT = "/api/content/v1"
FEDERATION = "/api/federation/v1"


class ContentRelay(FeedConsumer):
    name = "federation-relay"

    def __init__(self, ctx: ServiceContext, source: str, **kw: Any) -> None:
        super().__init__(ctx.db, feed_tables, ctx.feed_fetcher(source, outward.CONTENT_TOPICS), **kw)
        self.ctx = ctx
        self.source = source

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        await outward.relay(
            session, event, self.ctx.directory.client(self.source), self.ctx.settings.public_url
        )
        if event.topic == "publication.withdrawn":  # a peer's resource placed there: tell its source
            await placements.withdrawn(session, int(event.payload["publication_id"]))


class PeerFollower(FeedConsumer):
    """Reads one peer's federation feed; `name` (the cursor row) is per peer."""

    # A peer that comes back is read again within seconds, not after a long backoff.
    max_backoff = 5.0

    def __init__(
        self,
        ctx: ServiceContext,
        peer: Peer,
        link: PeerLink,
        content: httpx.AsyncClient,
        lag_warn_seconds: float,
        oversight: httpx.AsyncClient | None = None,
        **kw: Any,
    ) -> None:
        self.name = f"peer-{peer.code}"
        self.peer = peer.code
        self.topics = sorted({t.value for f in peer.follow for t in FOLLOW_TOPICS[FollowKind(f)]})
        self.link = link
        self.content = content
        self.lag_warn_seconds = lag_warn_seconds
        self.caught_up_at = clock.epoch()
        self.head = 0
        self.behind = 0
        self.failed_polls = 0
        self._warned = False
        # Where operators look: oversight holds an alert while the peer is late. What it was last
        # told (None: nothing yet, so a restart tells it once and an alert left open is closed).
        self.oversight = oversight
        self._told_late: bool | None = None
        super().__init__(ctx.db, feed_tables, self._fetch, **kw)

    async def _fetch(self, after: int, limit: int) -> tuple[list[FeedEvent], int]:
        events, head = await self.link.changes(after, limit, self.topics, self.name)
        self.head, self.behind = head, max(0, head - after)
        return events, head

    @property
    def lag_seconds(self) -> float:
        return max(0.0, clock.epoch() - self.caught_up_at)

    @property
    def late(self) -> bool:
        return self.lag_seconds > self.lag_warn_seconds

    def _measure(self) -> None:
        if self.late and not self._warned:
            self._warned = True
            log.warning(
                "peer %s: feed %.0f s behind (%s)", self.peer, self.lag_seconds, self.last_error or ""
            )
        elif not self.late:
            self._warned = False

    async def _tell_oversight(self) -> None:
        late = self.late
        if self.oversight is None or late == self._told_late:
            return
        body = {
            "late": late,
            "lag_seconds": round(self.lag_seconds, 3),
            "detail": (self.last_error or "")[:500],
        }
        try:
            resp = await self.oversight.put(f"/api/oversight/v1/peer-lag/{self.peer}", json=body)
        except httpx.HTTPError as exc:  # told on the next poll
            log.warning("peer %s: lag not reported to oversight: %s", self.peer, exc)
            return
        if resp.status_code == 200:
            self._told_late = late
        else:
            log.warning(
                "peer %s: oversight answered the lag report with HTTP %s", self.peer, resp.status_code
            )

    async def run_once(self) -> int:
        try:
            count = await super().run_once()
        except Exception as exc:
            self.failed_polls += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]
            self._measure()
            await self._tell_oversight()
            raise
        if count == 0:  # idle: at the peer's head
            self.caught_up_at = clock.epoch()
            self.behind = 0
        self._measure()
        await self._tell_oversight()
        return count

    async def status(self) -> dict[str, Any]:
        out = await super().status()
        # `peer` marks a peer follower for the gateway's /metrics (jiyue_peer_feed_* gauges).
        out.update(
            peer=self.peer,
            lag_seconds=round(self.lag_seconds, 3),
            lag_events=self.behind,
            late=self.late,
            failures=self.failed_polls,
        )
        return out

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        p = event.payload
        if event.topic == Topic.SITE:
            await registry.record(session, self.peer, event.cursor, p, event.created_at)
        elif event.topic == Topic.PUBLISHED and p.get("important"):
            await self._republish(int(p["publication_id"]), str(p["site"]), str(p.get("url") or ""))
        elif event.topic == Topic.REPORT_SUBMITTED:
            sid = int(p["submission_id"])
            status, doc = await self.link.get_json(f"{FEDERATION}/peer/reports/{sid}", authed=True)
            if status == 200 and isinstance(doc, dict):
                await reports.receive(session, self.peer, doc)
            elif status != 404:  # 404: withdrawn from us since; anything else is tried again
                raise PeerUnavailable(f"对方平台的年度报表 {sid} 回答 HTTP {status}")
        elif event.topic == Topic.REPORT_REVIEWED:
            await reports.apply_review(session, self.peer, p)
        elif event.topic == Topic.WITHDRAWN:
            body = {"peer": self.peer, "publication_id": int(p["publication_id"])}
            resp = await self.content.post(f"{CONTENT}/remote-items/withdrawals", json=body)
            resp.raise_for_status()

    async def _republish(self, publication_id: int, site: str, url: str) -> None:
        item = await self.link.public_item(site, publication_id)
        if item is None:  # withdrawn at the source before we got here; its withdrawal follows
            return
        body = peer_tasks.item_body(self.link, self.peer, site, publication_id, item, url)
        resp = await self.content.post(f"{CONTENT}/remote-items", json=body)
        resp.raise_for_status()


def followers(ctx: ServiceContext, state: FederationState) -> Worker:
    """Start a follower for every active peer we follow, stop it when the peer changes or goes."""
    settings = state.settings

    async def run(stop: asyncio.Event) -> None:
        running: dict[str, tuple[tuple[Any, ...], asyncio.Event, asyncio.Task[None], PeerFollower]] = {}

        async def halt(code: str) -> None:
            _, flag, task, follower = running.pop(code)
            flag.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
            state.followers.pop(code, None)
            if follower in ctx.consumers:
                ctx.consumers.remove(follower)

        while not stop.is_set():
            try:
                async with ctx.db.session() as session:
                    peers = {
                        p.code: p
                        for p in await active_peers(session)
                        if p.follow and p.remote_client_id and p.remote_secret_enc
                    }
                for code in list(running):
                    peer = peers.get(code)
                    if peer is None or _fingerprint(peer) != running[code][0]:
                        await halt(code)
                for code, peer in peers.items():
                    if code in running:
                        continue
                    assert peer.remote_client_id and peer.remote_secret_enc
                    secret = state.sealer.open(peer.remote_secret_enc)
                    link = PeerLink(state.outbound, peer.base_url, peer.remote_client_id, secret)
                    follower = PeerFollower(
                        ctx,
                        peer,
                        link,
                        ctx.directory.client(settings.federation_content_source),
                        settings.federation_lag_warn_seconds,
                        ctx.directory.client("oversight"),
                        poll_seconds=settings.feed_poll_seconds,
                        lease_seconds=settings.feed_lease_seconds,
                    )
                    follower.apply_settings(settings)
                    flag = asyncio.Event()
                    task = asyncio.create_task(follower.run_forever(flag), name=follower.name)
                    running[code] = (_fingerprint(peer), flag, task, follower)
                    state.followers[code] = follower
                    # Listed with the static consumers: readiness and the gateway's feed gauges.
                    ctx.consumers.append(follower)
            except (PeerUnavailable, ValueError) as exc:
                log.warning("federation: peer followers not refreshed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.federation_peer_refresh_seconds)
        for code in list(running):
            await halt(code)

    return run


def _fingerprint(peer: Peer) -> tuple[Any, ...]:
    return (peer.base_url, peer.remote_client_id, peer.remote_secret_enc, tuple(peer.follow))
