"""The one client for requests a tenant can aim (webhooks now; link checks and peers later).

A site administrator chooses the URL, so without a guard the platform would POST wherever it is
told: to loopback, the private network, the cloud metadata service — and hand the error text
back, which makes it a port scanner. Every such request therefore goes through here:

- the name is resolved once and every address it resolves to must be public (not loopback,
  private, ULA, link-local, multicast, unspecified, reserved, carrier-grade NAT, metadata, nor an
  IPv4-mapped / 6to4 / NAT64 / Teredo form of one), unless the operator allow-lists its range;
- the connection goes to the address that was checked (the URL is rewritten to the IP; the Host
  header and TLS SNI keep the name), so a second DNS answer cannot swap in another target;
- redirects are never followed; one deadline covers resolving, connecting, sending and reading;
  the answer is read up to a size cap;
- the caller gets a generic Chinese error (`OutboundError.public`); the details go to the log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx

log = logging.getLogger("jiyue.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

PUBLIC_ERROR = "目标地址无法访问或不被允许"

# Ranges refused beyond what `ipaddress` already calls non-global (kept explicit so the policy
# reads in one place and does not shift with the Python version).
_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, 169.254.169.254 metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",  # ULA, fd00:ec2::254 metadata
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class OutboundError(Exception):
    """A request that did not get an answer; `public` is what a tenant may read."""

    public = PUBLIC_ERROR


class OutboundRefused(OutboundError):
    """The target is not one the platform may talk to."""


def parse_allow(text: str) -> tuple[IPNetwork, ...]:
    """An operator's allow-list: CIDRs separated by commas or spaces (e.g. `10.8.0.0/16,::1/128`)."""
    return tuple(ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split())


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, NAT64, Teredo client)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    out: list[IPAddress] = []
    if ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def refusal(ip: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """Why `ip` may not be dialled, or None when it may."""
    allowed = tuple(allow)
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    for inner in _embedded(ip):
        reason = refusal(inner, allowed)
        if reason is not None:
            return f"{ip} embeds {inner}: {reason}"
    for net in _BLOCKED:
        if ip.version == net.version and ip in net:
            return f"{ip} is in the refused range {net}"
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return f"{ip} is not a public address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class OutboundPolicy:
    allow: tuple[IPNetwork, ...] = ()
    # One deadline for the whole exchange, and the most of an answer that is read.
    deadline_seconds: float = 10.0
    max_response_bytes: int = 64 * 1024


@dataclass
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes = field(repr=False)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves, checks and dials the checked address; everything else is the inner transport's."""

    def __init__(
        self,
        policy: OutboundPolicy,
        inner: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)
        self.resolver = resolver

    async def pinned_address(self, host: str, port: int) -> str:
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [str(literal)]
        else:
            try:
                candidates = await self.resolver(host, port)
            except OSError as exc:
                raise OutboundError(f"cannot resolve {host}: {exc}") from None
        if not candidates:
            raise OutboundError(f"{host} resolves to nothing")
        for text in candidates:
            reason = refusal(ipaddress.ip_address(text.split("%")[0]), self.policy.allow)
            if reason is not None:
                # One bad answer refuses the name: an attacker controls which answer is used.
                raise OutboundRefused(f"{host}: {reason}")
        return candidates[0]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise OutboundRefused(f"scheme or host not allowed: {url.scheme}://{url.host}")
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await self.pinned_address(url.host, port)
        # The Host header was set from the original URL when the request was built; TLS is told
        # the name so certificates are checked against it, not against the IP.
        request.url = url.copy_with(host=address)
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class OutboundClient:
    """Requests to tenant-chosen URLs under `OutboundPolicy`; raises `OutboundError` on any failure."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        inner: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.policy = policy
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(policy, inner, resolver),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would dial the name itself, unchecked
            timeout=policy.deadline_seconds,
        )

    async def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> OutboundResponse:
        return await self.request("POST", url, content=content, headers=headers)

    async def request(
        self, method: str, url: str, *, content: bytes = b"", headers: dict[str, str] | None = None
    ) -> OutboundResponse:
        """Any method (HEAD and GET for link checks and probes) under the same guard and deadline."""
        try:
            async with asyncio.timeout(self.policy.deadline_seconds):
                return await self._exchange(method, url, content, headers or {})
        except OutboundError as exc:
            log.warning("outbound request to %s failed: %s", url, exc)
            raise
        except (TimeoutError, httpx.HTTPError, OSError, ValueError) as exc:
            log.warning("outbound request to %s failed: %s: %s", url, type(exc).__name__, exc)
            raise OutboundError(f"{type(exc).__name__}: {exc}") from None

    async def _exchange(
        self, method: str, url: str, content: bytes, headers: dict[str, str]
    ) -> OutboundResponse:
        async with self._client.stream(method, url, content=content, headers=headers) as resp:
            body = bytearray()
            async for chunk in resp.aiter_raw():
                body.extend(chunk)
                if len(body) > self.policy.max_response_bytes:
                    raise OutboundError(f"answer larger than {self.policy.max_response_bytes} bytes")
            return OutboundResponse(resp.status_code, resp.headers, bytes(body))

    async def aclose(self) -> None:
        await self._client.aclose()
