"""One notion of "the same client address" for every throttle on the platform.

An IPv6 host usually holds a whole /64 (SLAAC, privacy addresses rotate inside it), so keying
a throttle on the full address lets one host mint 2^64 fresh keys; everything in one /64 counts
as one client. IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what dual-stack sockets report) is the
IPv4 address it carries. Anything unparsable is its own key, unchanged.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64


def throttle_key(addr: str) -> str:
    """`192.0.2.7` → `192.0.2.7`; `2001:db8:1:2:a:b:c:d` → `2001:db8:1:2::/64`;
    `::ffff:192.0.2.7` → `192.0.2.7`."""
    text = addr.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)
