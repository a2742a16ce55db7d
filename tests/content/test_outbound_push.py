"""Webhooks go through the guarded outbound client (issue 13): no push to loopback, private or
metadata addresses, no redirects followed, no error details for the tenant; only loopback is dialled."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.kernel.outbound import PUBLIC_ERROR
from tests.content.conftest import Content, _start
from tests.kernel.test_outbound import LoopbackServer
from tests.support.tokens import TestIssuer


@pytest.fixture
async def content_allowing_loopback(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    async for c in _start(
        tmp_path,
        issuer,
        run_workers=True,
        content_push_backoff_seconds=0.05,
        content_push_max_attempts=2,
        outbound_allow="127.0.0.1/32",
    ):
        yield c


@pytest.fixture
async def content_public_only(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    async for c in _start(tmp_path, issuer, run_workers=True, content_push_backoff_seconds=0.05):
        yield c


async def _channel(content: Content, url: str) -> Any:
    return await content.client.post(
        "/api/content/v1/sites/jtj/channels",
        json={"name": "交通微信公众号", "url": url},
        headers=content.site_admin("jtj"),
    )


async def _settled(content: Content, seconds: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = (
            await content.client.get(
                "/api/content/v1/sites/jtj/push-deliveries", headers=content.site_admin("jtj")
            )
        ).json()["items"]
        if items and all(i["status"] != "pending" for i in items):
            return items
        await asyncio.sleep(0.05)
    return items


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[fd00:ec2::254]/",
    ],
)
async def test_channel_to_a_non_public_address_is_refused(content: Content, url: str) -> None:
    await content.site("jtj")
    made = await _channel(content, url)
    assert made.status_code == 422 and "url" in made.text


async def test_a_name_resolving_to_loopback_is_never_dialled(content_public_only: Content) -> None:
    content = content_public_only
    await content.site("jtj")
    column = await content.column("jtj", "政务动态")
    async with LoopbackServer().running() as receiver:
        assert (await _channel(content, f"http://localhost:{receiver.port}/hook")).status_code == 201
        await content.publish_new("jtj", column, "新开通公交线路")
        log = await _settled(content)
    assert receiver.requests == []
    assert log and log[0]["status"] == "failed" and log[0]["attempts"] == 1
    assert log[0]["log"][0]["error"] == PUBLIC_ERROR  # no address, port or exception text


async def test_a_redirect_to_loopback_is_not_followed(content_allowing_loopback: Content) -> None:
    content = content_allowing_loopback
    await content.site("jtj")
    column = await content.column("jtj", "政务动态")
    async with LoopbackServer().running() as sink:
        async with LoopbackServer(mode="redirect", location=sink.url).running() as redirector:
            assert (await _channel(content, redirector.url)).status_code == 201
            await content.publish_new("jtj", column, "新开通公交线路")
            log = await _settled(content)
    assert sink.requests == [] and len(redirector.requests) == 2
    assert log[0]["status"] == "dead" and [e["status"] for e in log[0]["log"]] == [307, 307]


async def test_an_allow_listed_loopback_receiver_gets_signed_deliveries(
    content_allowing_loopback: Content,
) -> None:
    content = content_allowing_loopback
    await content.site("jtj")
    column = await content.column("jtj", "政务动态")
    async with LoopbackServer().running() as receiver:
        made = await _channel(content, receiver.url)
        assert made.status_code == 201, made.text
        pid = await content.publish_new("jtj", column, "新开通公交线路")
        log = await _settled(content)
    assert log[0]["status"] == "delivered", log
    head, _, body = receiver.requests[0].partition(b"\r\n\r\n")
    headers = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
    secret = made.json()["secret"]
    expected = hmac.new(secret.encode(), headers["x-jiyue-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-jiyue-signature"] == "sha256=" + expected.hexdigest()
    assert b'"publication_id":%d' % pid in body
