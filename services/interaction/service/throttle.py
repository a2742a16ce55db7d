"""Anonymous letters per client network: a token bucket per IPv6 /64 or IPv4 address.

An IPv6 client owns a whole /64 and can change its address at will, so the bucket is the
network, not the address. Buckets live in this process (one replica limits on its own, like
the gateway's limiter); the duplicate check in the database is what holds across replicas.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

from services.kernel.clock import epoch

MAX_BUCKETS = 100_000


def network_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class Throttle:
    def __init__(self, burst: int, per_hour: float) -> None:
        self.burst = float(burst)
        self.rate = per_hour / 3600.0
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, address: str) -> float | None:
        """None when allowed; otherwise the seconds until the next letter would be."""
        key = network_key(address)
        now = epoch()
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else 3600.0
