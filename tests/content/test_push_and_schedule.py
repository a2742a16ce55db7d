"""New-media push (signed webhooks with retries and a log) and the scheduler."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import update

from services.content.models import Publication
from services.content.service.common import ContentState
from services.content.workers import scheduler_pass
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
from tests.content.conftest import Content


class Receiver:
    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=503 if len(self.received) <= self.fail_first else 204)


async def _to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def test_published_items_are_pushed_signed_with_retries(content_live: Content) -> None:
    content = content_live
    receiver = Receiver(fail_first=2)
    content.ctx.state_of(ContentState).push_client = OutboundClient(
        OutboundPolicy(allow=parse_allow("127.0.0.1/32")),
        inner=httpx.ASGITransport(app=receiver.app),
        resolver=_to_loopback,
    )
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    made = await content.client.post(
        "/api/content/v1/sites/jtj/channels",
        json={"name": "交通微信公众号", "url": "http://media.test/hook"},
        headers=content.site_admin("jtj"),
    )
    assert made.status_code == 201
    secret = made.json()["secret"]
    listed = await content.client.get("/api/content/v1/sites/jtj/channels", headers=content.site_admin("jtj"))
    assert "secret" not in listed.json()["items"][0]
    pid = await content.publish_new("jtj", col, "新开通公交线路")

    deadline = time.monotonic() + 5
    log: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        log = (
            await content.client.get(
                "/api/content/v1/sites/jtj/push-deliveries", headers=content.site_admin("jtj")
            )
        ).json()["items"]
        if log and log[0]["status"] == "delivered":
            break
        await asyncio.sleep(0.05)
    assert log and log[0]["status"] == "delivered", log
    assert log[0]["attempts"] == 3 and [e["status"] for e in log[0]["log"]] == [503, 503, 204]
    headers, body = receiver.received[-1]
    expected = hmac.new(secret.encode(), headers["x-jiyue-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-jiyue-signature"] == "sha256=" + expected.hexdigest()
    assert b'"publication_id":%d' % pid in body
    wrong = hmac.new(b"other-secret", headers["x-jiyue-timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["x-jiyue-signature"] != "sha256=" + wrong.hexdigest()


async def _move_clock(content: Content, pid: int, **fields: datetime) -> None:
    """Put a schedule in the past without sleeping, so the test does not depend on load."""
    async with content.ctx.db.session() as session:
        await session.execute(update(Publication).where(Publication.id == pid).values(**fields))  # type: ignore[arg-type]


async def test_scheduled_publish_and_expiry(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "通知公告")
    later = datetime.now(UTC) + timedelta(hours=2)
    placed = await content.place("jtj", col, "定时发布的通知", publish_at=later.isoformat())
    pid = placed["id"]
    await content.act(pid, "submit", content.editor("jtj"))
    await content.approve(pid, content.reviewer("jtj", 1))
    await content.approve(pid, content.reviewer("jtj", 2))
    scheduled = await content.act(pid, "publish", content.editor("jtj"))
    assert scheduled.json()["status"] == "approved"
    assert await scheduler_pass(content.ctx) == 0
    assert (await content.deliver("jtj", f"/items/{pid}")).status_code == 404
    await _move_clock(content, pid, publish_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await scheduler_pass(content.ctx) == 1
    assert (await content.deliver("jtj", f"/items/{pid}")).status_code == 200

    expiring = await content.publish_new("jtj", col, "会过期的通知", expire_at=later.isoformat())
    assert await scheduler_pass(content.ctx) == 0
    assert (await content.deliver("jtj", f"/items/{expiring}")).status_code == 200
    await _move_clock(content, expiring, expire_at=datetime.now(UTC) - timedelta(seconds=1))
    assert await scheduler_pass(content.ctx) == 1
    assert (await content.deliver("jtj", f"/items/{expiring}")).status_code == 404
