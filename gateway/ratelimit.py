"""Token-bucket rate limits by client address and by token subject.

Buckets live in this process's memory: each gateway replica limits on its own, so N replicas
allow up to N times the configured rate. That is the documented trade-off of the embedded
default; a shared store would be needed for exact cluster-wide limits.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

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


class ClientAddresses:
    """Turns a socket peer into the address we log and the key we limit by.

    On a dual-stack socket an IPv4 client appears as ::ffff:a.b.c.d; it is reported and
    limited as the IPv4 address it is. IPv6 clients are limited by their /64, because one
    subscriber usually holds a whole /64 and could otherwise rotate addresses at will.
    """

    def __init__(self, exempt: list[str], trusted_proxies: list[str]) -> None:
        self.exempt = parse_networks(exempt)
        self.trusted = parse_networks(trusted_proxies)
        self._memo: dict[str, tuple[str, str, bool, bool]] = {}

    def describe(self, peer: str) -> tuple[str, str, bool, bool]:
        """(address, limit key, exempt, trusted proxy) for a peer address string."""
        hit = self._memo.get(peer)
        if hit is not None:
            return hit
        try:
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            result = (peer, peer, False, False)
        else:
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            if isinstance(ip, ipaddress.IPv6Address):
                key = str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
            else:
                key = str(ip)
            result = (
                str(ip),
                key,
                any(ip in net for net in self.exempt),
                any(ip in net for net in self.trusted),
            )
        if len(self._memo) >= _ADDRESS_MEMO_MAX:
            self._memo.clear()
        self._memo[peer] = result
        return result


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
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 when allowed; otherwise the seconds until one token is available."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_KEYS:
                self._prune(now)
            self._buckets[key] = Bucket(self.burst - 1.0, now)
            return 0.0
        tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if tokens >= 1.0:
            bucket.tokens = tokens - 1.0
            return 0.0
        bucket.tokens = tokens
        return (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled: they behave exactly like new ones."""
        full_after = self.burst / self.rate if self.rate > 0 else math.inf
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.stamp < full_after}
        if len(self._buckets) >= _MAX_KEYS:
            self._buckets.clear()


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
