"""Prometheus metrics of the gateway, on its own registry (several gateways may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

UNMATCHED = "unmatched"
_ID_AFTER = frozenset({"sites", "users", "orgs", "clients", "objects"})
_MAX_SEGMENTS = 8
_MEMO_MAX = 20_000
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _is_identifier(segment: str, previous: str) -> bool:
    if previous in _ID_AFTER:
        return True
    if segment.isdigit():
        return True
    if not segment.isascii():
        return True
    return len(segment) >= 16 and any(c.isdigit() for c in segment)


def route_template(path: str) -> str:
    """/api/content/v1/items/42 -> /api/content/v1/items/{id}: bounded label values."""
    parts = path.split("/")[: _MAX_SEGMENTS + 1]
    out = []
    previous = ""
    for segment in parts:
        out.append("{id}" if segment and _is_identifier(segment, previous) else segment)
        previous = segment
    return "/".join(out)


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
        self.feed_position = Gauge(
            "jiyue_feed_position",
            "Last cursor a feed consumer processed",
            ["service", "consumer"],
            registry=self.registry,
        )
        self.sites = Gauge("jiyue_gateway_sites", "Sites in the gateway's registry", registry=self.registry)
        self._templates: dict[str, str] = {}
        self._children: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = {}

    def template(self, path: str, status: int) -> str:
        if status == 404:
            return UNMATCHED  # a client chooses these paths; they must not become labels
        hit = self._templates.get(path)
        if hit is None:
            if len(self._templates) >= _MEMO_MAX:
                self._templates.clear()
            hit = self._templates[path] = route_template(path)
        return hit

    def observe(self, path: str, site: str, method: str, status: int, seconds: float) -> None:
        route = self.template(path, status)
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
