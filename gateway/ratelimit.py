"""Token-bucket rate limits by client address and by token subject.

Buckets live in this process's memory: each gateway replica limits on its own, so N replicas
allow up to N times the configured rate. That is the documented trade-off of the embedded
default; a shared store would be needed for exact cluster-wide limits.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from cachetools import LRUCache

from gateway.settings import GatewaySettings

SIGNIN_PATHS = frozenset(
    {"/api/identity/v1/token", "/api/identity/v1/authorize", "/api/identity/v1/register"}
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_KEYS = 100_000
_ADDRESS_MEMO_MAX = 50_000

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str]) -> list[Network]:
    return [ipaddress.ip_network(v, strict=False) for v in values]


@dataclass(frozen=True, slots=True)
class ClientAddress:
    address: str  # as logged and passed on to the services
    limit_key: str  # IPv4 /32, IPv6 /64
    exempt: bool  # never rate-limited
    proxy: bool  # a trusted reverse proxy: its X-Forwarded-For names the client
    internal: bool  # inside the platform's own networks (probes, operators, scrapers)


class ClientAddresses:
    """Turns a socket peer into the address we log and the key we limit by.

    On a dual-stack socket an IPv4 client appears as ::ffff:a.b.c.d; it is reported and
    limited as the IPv4 address it is. IPv6 clients are limited by their /64, because one
    subscriber usually holds a whole /64 and could otherwise rotate addresses at will.
    """

    def __init__(self, exempt: list[str], trusted_proxies: list[str], internal: list[str]) -> None:
        self.exempt = parse_networks(exempt)
        self.trusted = parse_networks(trusted_proxies)
        self.internal = parse_networks(internal)
        self._memo: LRUCache[str, ClientAddress] = LRUCache(maxsize=_ADDRESS_MEMO_MAX)

    def describe(self, peer: str) -> ClientAddress:
        hit = self._memo.get(peer)
        if hit is not None:
            return hit
        try:
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            result = ClientAddress(peer, peer, False, False, False)
        else:
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            if isinstance(ip, ipaddress.IPv6Address):
                key = str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
            else:
                key = str(ip)
            result = ClientAddress(
                str(ip),
                key,
                any(ip in net for net in self.exempt),
                any(ip in net for net in self.trusted),
                any(ip in net for net in self.internal),
            )
        self._memo[peer] = result
        return result

    def client(self, peer: str, forwarded_for: bytes | None) -> ClientAddress:
        """The client of a request: the socket peer, or, when the peer is a trusted proxy, the
        nearest X-Forwarded-For entry that is not itself a trusted proxy (ingress behind a
        load balancer appends one hop each)."""
        seen = self.describe(peer)
        if not seen.proxy or not forwarded_for:
            return seen
        for hop in reversed(forwarded_for.decode("latin-1").split(",")):
            hop = hop.strip()
            if not hop:
                continue
            seen = self.describe(hop)
            if not seen.proxy:
                return seen
        return seen


@dataclass(slots=True)
class Bucket:
    tokens: float
    stamp: float


class TokenBuckets:
    """One family of buckets (rate per second, burst) keyed by any string."""

    def __init__(self, name: str, per_second: float, burst: float) -> None:
        self.name = name
        self.rate = per_second
        self.burst = max(burst, 1.0)
        # Least recently used first out: a flood of new keys evicts idle buckets (which would
        # refill to full anyway), never the ones of clients being limited right now.
        self._buckets: LRUCache[str, Bucket] = LRUCache(maxsize=_MAX_KEYS)

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 when allowed; otherwise the seconds until one token is available."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = Bucket(self.burst - 1.0, now)
            return 0.0
        tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if tokens >= 1.0:
            bucket.tokens = tokens - 1.0
            return 0.0
        bucket.tokens = tokens
        return (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0


class RateLimiter:
    def __init__(self, settings: GatewaySettings) -> None:
        self.enabled = settings.gateway_rate_limits
        self.address = TokenBuckets(
            "address", settings.gateway_rate_address_per_second, settings.gateway_rate_address_burst
        )
        self.subject = TokenBuckets(
            "subject", settings.gateway_rate_subject_per_second, settings.gateway_rate_subject_burst
        )
        self.signin = TokenBuckets(
            "signin", settings.gateway_rate_signin_per_minute / 60.0, settings.gateway_rate_signin_burst
        )
        self.write = TokenBuckets(
            "write", settings.gateway_rate_write_per_minute / 60.0, settings.gateway_rate_write_burst
        )

    def check(
        self, method: str, path: str, address_key: str, subject: str | None
    ) -> tuple[str, float] | None:
        """None when allowed, else (bucket name, Retry-After seconds)."""
        if method == "POST" and path in SIGNIN_PATHS:
            wait = self.signin.take(address_key)
            if wait:
                return "signin", wait
        if subject is not None:
            wait = self.subject.take(subject)
            return ("subject", wait) if wait else None
        if method not in _SAFE_METHODS and path not in SIGNIN_PATHS:
            wait = self.write.take(address_key)
            if wait:
                return "write", wait
        wait = self.address.take(address_key)
        return ("address", wait) if wait else None
