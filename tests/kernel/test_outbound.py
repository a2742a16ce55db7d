"""The guarded outbound client: refused targets never see a connection attempt (issue 13).

Only loopback is ever dialled here; the refusals of 10.x / 169.254.x happen before any transport
is asked to connect, which a spy transport proves.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from services.kernel.outbound import (
    PUBLIC_ERROR,
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    parse_allow,
    refusal,
)


@dataclass
class LoopbackServer:
    """A tiny HTTP/1.1 server on 127.0.0.1: `ok` answers 204, `tarpit` never answers,
    `redirect` answers 307 to `location`, `fail` answers 503, `big` answers 200 with a large body."""

    mode: str = "ok"
    location: str = ""
    requests: list[bytes] = field(default_factory=list)
    port: int = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            self.requests.append(head + body)
            if self.mode == "tarpit":
                await asyncio.sleep(3600)
            elif self.mode == "redirect":
                writer.write(
                    f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {self.location}\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
                )
            elif self.mode == "fail":
                writer.write(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif self.mode == "big":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n")
                writer.write(b"x" * 1_000_000)
            else:
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LoopbackServer]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


class SpyTransport(httpx.AsyncBaseTransport):
    """Stands in for the network: records every request that would have been sent."""

    def __init__(self) -> None:
        self.calls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url)
        return httpx.Response(204)


LOOPBACK = parse_allow("127.0.0.1/32")

REFUSED = [
    "127.0.0.1",
    "127.8.8.8",
    "::1",
    "0.0.0.0",
    "::",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "fd00:ec2::254",
    "fc00::1",
    "fe80::1",
    "224.0.0.251",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::10.0.0.1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:db8::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_the_operator_allow_list_opens_a_range() -> None:
    allow = parse_allow("10.8.0.0/16, ::1/128")
    assert refusal(ipaddress.ip_address("10.8.1.2"), allow) is None
    assert refusal(ipaddress.ip_address("::1"), allow) is None
    assert refusal(ipaddress.ip_address("10.9.0.1"), allow) is not None
    assert refusal(ipaddress.ip_address("127.0.0.1"), allow) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://[::1]:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "https://10.0.0.1/hook",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://localhost:9/hook",  # a name that resolves to loopback
    ],
)
async def test_refused_before_any_connection(url: str) -> None:
    spy = SpyTransport()
    client = OutboundClient(OutboundPolicy(), inner=spy)
    with pytest.raises(OutboundRefused) as caught:
        await client.post(url, content=b"{}", headers={})
    assert spy.calls == []
    assert caught.value.public == PUBLIC_ERROR and str(caught.value) not in PUBLIC_ERROR
    await client.aclose()


async def test_one_private_answer_refuses_the_name() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.1"]

    spy = SpyTransport()
    client = OutboundClient(OutboundPolicy(), inner=spy, resolver=resolver)
    with pytest.raises(OutboundRefused):
        await client.post("http://rebind.example/hook", content=b"{}", headers={})
    assert spy.calls == []
    await client.aclose()


async def test_dials_the_checked_address_and_keeps_the_name() -> None:
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    async with LoopbackServer().running() as server:
        client = OutboundClient(OutboundPolicy(allow=LOOPBACK), resolver=resolver)
        resp = await client.post(
            f"http://hooks.example:{server.port}/hook", content=b'{"a":1}', headers={"X-T": "1"}
        )
        await client.aclose()
    assert resp.status_code == 204
    assert asked == ["hooks.example"]  # resolved once; the connection used that answer
    assert f"host: hooks.example:{server.port}".encode() in server.requests[0].lower()
    assert server.requests[0].endswith(b'{"a":1}')


async def test_redirects_are_not_followed() -> None:
    async with LoopbackServer().running() as sink:
        async with LoopbackServer(mode="redirect", location=sink.url).running() as redirector:
            client = OutboundClient(OutboundPolicy(allow=LOOPBACK))
            resp = await client.post(redirector.url, content=b"{}", headers={})
            await client.aclose()
    assert resp.status_code == 307
    assert len(redirector.requests) == 1 and sink.requests == []


async def test_one_deadline_for_the_whole_exchange() -> None:
    async with LoopbackServer(mode="tarpit").running() as tarpit:
        client = OutboundClient(OutboundPolicy(allow=LOOPBACK, deadline_seconds=0.3))
        started = time.monotonic()
        with pytest.raises(OutboundError) as caught:
            await client.post(tarpit.url, content=b"{}", headers={})
        took = time.monotonic() - started
        await client.aclose()
    assert took < 2.0
    assert caught.value.public == PUBLIC_ERROR


async def test_answers_are_read_up_to_a_cap() -> None:
    async with LoopbackServer(mode="big").running() as big:
        client = OutboundClient(OutboundPolicy(allow=LOOPBACK, max_response_bytes=10_000))
        with pytest.raises(OutboundError):
            await client.post(big.url, content=b"{}", headers={})
        await client.aclose()
