"""Prometheus metrics of the gateway, on its own registry (several gateways may share a process)."""

from __future__ import annotations

from collections.abc import Iterable

from cachetools import LRUCache
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

UNMATCHED = "unmatched"
_MEMO_MAX = 20_000
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RouteTable:
    """Request paths to the route templates the services declare (their OpenAPI paths).

    Only declared templates become label values: a path no route declares is `unmatched`,
    whatever the status, so a client choosing paths cannot create series.
    """

    def __init__(self) -> None:
        # segment count -> (template, segments with None for a parameter), literal-richest first
        self._routes: dict[int, list[tuple[str, tuple[str | None, ...]]]] = {}
        self._memo: LRUCache[str, str] = LRUCache(maxsize=_MEMO_MAX)

    def add(self, templates: Iterable[str]) -> None:
        for template in templates:
            segments = tuple(
                None if s.startswith("{") and s.endswith("}") else s for s in template.split("/")
            )
            routes = self._routes.setdefault(len(segments), [])
            if any(t == template for t, _ in routes):
                continue
            routes.append((template, segments))
            routes.sort(key=lambda r: sum(s is None for s in r[1]))
        self._memo.clear()

    def __len__(self) -> int:
        return sum(len(r) for r in self._routes.values())

    def match(self, path: str) -> str:
        hit = self._memo.get(path)
        if hit is not None:
            return hit
        parts = path.split("/")
        found = UNMATCHED
        for template, segments in self._routes.get(len(parts), ()):
            if all(s is None or s == p for s, p in zip(segments, parts, strict=True)):
                found = template
                break
        self._memo[path] = found
        return found


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "jiyue_gateway_requests_total",
            "Requests answered by the gateway",
            ["route", "site", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "jiyue_gateway_request_duration_seconds",
            "Time from request to the end of the response",
            ["route", "site"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "jiyue_gateway_upstream_errors_total",
            "Requests a service could not answer (down, timed out, circuit open)",
            ["service", "kind"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "jiyue_gateway_rate_limited_total",
            "Requests refused with 429",
            ["bucket"],
            registry=self.registry,
        )
        self.rejected_tokens = Counter(
            "jiyue_gateway_rejected_tokens_total",
            "Requests refused at the gateway for an invalid bearer token",
            registry=self.registry,
        )
        self.cache = Counter(
            "jiyue_gateway_cache_total",
            "Response cache lookups",
            ["result"],
            registry=self.registry,
        )
        self.cache_hit = self.cache.labels("hit")
        self.cache_miss = self.cache.labels("miss")
        self.not_modified = Counter(
            "jiyue_gateway_not_modified_total",
            "Conditional requests answered 304",
            registry=self.registry,
        )
        self.feed_lag = Gauge(
            "jiyue_feed_lag_events",
            "Events a feed consumer has not processed yet",
            ["service", "consumer"],
            registry=self.registry,
        )
        # Consumers that can say how long ago they were last at their source's head (a peer
        # platform's feed: it grows while the peer is down).
        self.feed_lag_seconds = Gauge(
            "jiyue_feed_lag_seconds",
            "Seconds since a feed consumer was last at its source's head",
            ["service", "consumer"],
            registry=self.registry,
        )
        self.feed_position = Gauge(
            "jiyue_feed_position",
            "Last cursor a feed consumer processed",
            ["service", "consumer"],
            registry=self.registry,
        )
        # Followers of peer platforms (federation), from their status at each scrape.
        self.peer_lag_seconds = Gauge(
            "jiyue_peer_feed_lag_seconds",
            "Seconds since the peer's feed head was last reached",
            ["peer"],
            registry=self.registry,
        )
        self.peer_lag_events = Gauge(
            "jiyue_peer_feed_lag_events", "Peer feed events not yet applied", ["peer"], registry=self.registry
        )
        self.peer_failures = Counter(
            "jiyue_peer_feed_failures",
            "Polls of a peer's feed that failed (peer down, refused)",
            ["peer"],
            registry=self.registry,
        )
        self._peer_failures_seen: dict[str, int] = {}
        self.sites = Gauge("jiyue_gateway_sites", "Sites in the gateway's registry", registry=self.registry)
        self.routes = RouteTable()
        self._children: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = {}

    def peer_follower(self, peer: str, status: dict[str, object]) -> None:
        self.peer_lag_seconds.labels(peer).set(float(str(status.get("lag_seconds", 0))))
        self.peer_lag_events.labels(peer).set(float(str(status.get("lag_events", 0))))
        failures = int(str(status.get("failures", 0)))
        seen = self._peer_failures_seen.get(peer, 0)
        # A follower started again counts from zero: its failures are all new.
        self.peer_failures.labels(peer).inc(failures - seen if failures >= seen else failures)
        self._peer_failures_seen[peer] = failures

    def observe(self, path: str, site: str, method: str, status: int, seconds: float) -> None:
        route = self.routes.match(path)
        key = (route, site, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, site, method, str(status)),
                self.latency.labels(route, site),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
