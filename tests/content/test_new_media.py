"""New-media accounts (article 17) and one signed push task per account per important item (42)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from services.content.models import NewMediaAccount
from services.content.newmedia_worker import NewMediaPusher
from services.content.service.common import ContentState
from services.kernel import clock
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
from tests.content.conftest import Content

BASE = "/api/content/v1/sites/{}/new-media"
DEAD = "/api/content/v1/sites/jtj/dead-letters"


def _dead_count() -> float:
    return REGISTRY.get_sample_value("jiyue_content_dead_letters_total", {"kind": "new_media"}) or 0.0


class Connector:
    """Records what a platform connector receives; media.test answers 204, down.test 503."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.received: list[dict[str, Any]] = []
        self.hold: asyncio.Event | None = None  # set: each request waits for it (tries in flight)
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> Response:
            if self.hold is not None:
                await self.hold.wait()
            body = await request.body()
            host = request.headers["host"]
            stamp = request.headers["x-jiyue-timestamp"]
            mac = hmac.new(self.secrets[host].encode(), stamp.encode() + b"." + body, hashlib.sha256)
            valid = request.headers["x-jiyue-signature"] == "sha256=" + mac.hexdigest()
            self.received.append({"host": host, "valid": valid, "body": body})
            return Response(status_code=204 if host == "media.test" and valid else 503)


async def _to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def _account(content: Content, site: str, name: str, endpoint: str, **kw: Any) -> httpx.Response:
    body = {
        "platform": "wechat",
        "account_name": name,
        "filing_no": "辽0601-2026-001",
        "endpoint": endpoint,
        **kw,
    }
    return await content.client.post(
        BASE.format(site) + "/accounts", json=body, headers=content.site_admin(site)
    )


async def _tasks(content: Content, site: str, state: str | None = None) -> list[dict[str, Any]]:
    params = {"state": state} if state else {}
    resp = await content.client.get(
        BASE.format(site) + "/tasks", params=params, headers=content.site_admin(site)
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


async def _run(pusher: NewMediaPusher) -> int:
    started = await pusher.step()
    await asyncio.gather(*started)
    return len(started)


@pytest.fixture
def connector(content: Content) -> Connector:
    connector = Connector()
    content.ctx.state_of(ContentState).push_client = OutboundClient(
        OutboundPolicy(allow=parse_allow("127.0.0.1/32"), deadline_seconds=2.0),
        inner=httpx.ASGITransport(app=connector.app),
        resolver=_to_loopback,
    )
    return connector


async def test_important_item_pushes_to_each_active_account(content: Content, connector: Connector) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    good = await _account(content, "jtj", "交通微信", "http://media.test/hook", platform="wechat")
    bad = await _account(content, "jtj", "交通微博", "http://down.test/hook", platform="weibo")
    off = await _account(
        content, "jtj", "交通抖音", "http://media.test/hook", platform="douyin", status="suspended"
    )
    assert good.status_code == bad.status_code == off.status_code == 201, good.text
    connector.secrets = {"media.test": good.json()["secret"], "down.test": bad.json()["secret"]}
    listed = (
        await content.client.get(BASE.format("jtj") + "/accounts", headers=content.site_admin("jtj"))
    ).json()
    assert listed["total"] == 3 and all("secret" not in a for a in listed["items"])

    assert {(a["platform"], a["account_name"], a["filing_no"]) for a in listed["items"]} == {
        ("wechat", "交通微信", "辽0601-2026-001"),
        ("weibo", "交通微博", "辽0601-2026-001"),
        ("douyin", "交通抖音", "辽0601-2026-001"),
    }
    dead_before = _dead_count()

    await content.publish_new("jtj", col, "普通信息")
    assert await _tasks(content, "jtj") == []

    pid = await content.publish_new("jtj", col, "台风红色预警", important=True)
    tasks = await _tasks(content, "jtj")
    assert len(tasks) == 2 and {t["state"] for t in tasks} == {"pending"}
    by_account = {t["account_id"]: t for t in tasks}
    assert set(by_account) == {good.json()["id"], bad.json()["id"]}

    settings = content.ctx.settings
    pusher = NewMediaPusher(content.ctx, content.ctx.state_of(ContentState), settings)
    try:
        assert await _run(pusher) == 2
        states = {t["account_id"]: t for t in await _tasks(content, "jtj")}
        assert states[good.json()["id"]]["state"] == "delivered"
        failing = states[bad.json()["id"]]
        assert failing["state"] == "retrying" and failing["attempts"] == 1
        assert failing["last_error"] == "HTTP 503" and "127.0.0.1" not in failing["last_error"]
        delivered = [r for r in connector.received if r["host"] == "media.test"]
        assert len(delivered) == 1 and delivered[0]["valid"]
        assert b'"publication_id":%d' % pid in delivered[0]["body"]
        assert await _run(pusher) == 0  # not due before its backoff
        for attempt in range(2, settings.content_push_max_attempts + 1):
            clock.shift(timedelta(hours=1))
            assert await _run(pusher) == 1
            state = await _tasks(
                content, "jtj", "dead" if attempt == settings.content_push_max_attempts else "retrying"
            )
            assert len(state) == 1 and state[0]["attempts"] == attempt
        dead = await _tasks(content, "jtj", "dead")
        assert [t["id"] for t in dead] == [failing["id"]]
        assert _dead_count() == dead_before + 1
        clock.shift(timedelta(hours=1))
        assert await _run(pusher) == 0  # a dead letter waits for an administrator
        # ... and it is among the site's dead letters, with the account as its channel.
        letters = await content.client.get(DEAD, headers=content.site_admin("jtj"))
        assert letters.status_code == 200, letters.text
        assert [(x["kind"], x["id"], x["channel_id"]) for x in letters.json()["items"]] == [
            ("new_media", failing["id"], bad.json()["id"])
        ]
        delivered_again = await content.client.post(
            f"{DEAD}/new_media/{states[good.json()['id']]['id']}/retry", headers=content.site_admin("jtj")
        )
        assert delivered_again.status_code == 409, delivered_again.text  # delivered: not a dead letter

        connector.secrets["down.test"] = "wrong-on-purpose"  # still failing, but the retry runs
        retried = await content.client.post(
            BASE.format("jtj") + f"/tasks/{failing['id']}/retry", headers=content.site_admin("jtj")
        )
        assert retried.status_code == 200 and retried.json()["state"] == "pending"
        assert retried.json()["attempts"] == 0
        again = await content.client.post(
            BASE.format("jtj") + f"/tasks/{states[good.json()['id']]['id']}/retry",
            headers=content.site_admin("jtj"),
        )
        assert again.status_code == 409
        assert await _run(pusher) == 1
        assert (await _tasks(content, "jtj", "retrying"))[0]["attempts"] == 1
    finally:
        clock.reset()


async def test_accounts_belong_to_their_site(content: Content, connector: Connector) -> None:
    await content.site("jtj")
    await content.site("wsj", id_code="bm99010002")
    made = await _account(content, "jtj", "交通微信", "http://media.test/hook")
    assert made.status_code == 201
    aid = made.json()["id"]
    other = content.site_admin("wsj")
    assert (await content.client.get(BASE.format("jtj") + "/accounts", headers=other)).status_code == 404
    assert (
        await content.client.get(BASE.format("jtj") + f"/accounts/{aid}", headers=other)
    ).status_code == 404
    edit = await content.client.patch(
        BASE.format("jtj") + f"/accounts/{aid}", json={"status": "suspended"}, headers=other
    )
    assert edit.status_code == 404
    # Naming its own site does not reach another site's account either.
    assert (
        await content.client.get(BASE.format("wsj") + f"/accounts/{aid}", headers=other)
    ).status_code == 404
    assert (
        await content.client.delete(BASE.format("wsj") + f"/accounts/{aid}", headers=other)
    ).status_code == 404
    mine = await content.client.get(
        BASE.format("jtj") + f"/accounts/{aid}", headers=content.site_admin("jtj")
    )
    assert mine.status_code == 200 and mine.json()["status"] == "active"


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "ftp://media.test/x",
    ],
)
async def test_refused_endpoints_are_4xx_and_nothing_stored(content: Content, endpoint: str) -> None:
    await content.site("jtj")
    resp = await _account(content, "jtj", "交通微信", endpoint)
    assert resp.status_code == 422, resp.text
    made = await _account(content, "jtj", "交通微信", "http://media.test/hook")
    patched = await content.client.patch(
        BASE.format("jtj") + f"/accounts/{made.json()['id']}",
        json={"endpoint": endpoint},
        headers=content.site_admin("jtj"),
    )
    assert patched.status_code == 422
    async with content.ctx.db.session() as session:
        stored = (await session.execute(select(NewMediaAccount.endpoint))).scalars().all()  # type: ignore[call-overload]
    assert stored == ["http://media.test/hook"]
    assert (
        await _account(content, "jtj", "交通微博", "http://media.test/hook", platform="qq")
    ).status_code == 422
    count = await _count(content)
    assert count == 1


async def _count(content: Content) -> int:
    async with content.ctx.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(NewMediaAccount))).scalar_one())


async def test_an_account_gets_at_most_its_slots_at_once_and_its_filing_is_required(
    content: Content, connector: Connector
) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    unfiled = await content.client.post(
        BASE.format("jtj") + "/accounts",
        json={"platform": "wechat", "account_name": "交通微信", "endpoint": "http://media.test/hook"},
        headers=content.site_admin("jtj"),
    )
    assert unfiled.status_code == 422 and "filing_no" in unfiled.text
    assert await _count(content) == 0
    made = await _account(content, "jtj", "交通微信", "http://media.test/hook")
    assert made.status_code == 201, made.text
    connector.secrets = {"media.test": made.json()["secret"]}
    for n in range(3):
        await content.publish_new("jtj", col, f"第{n}号紧急通知", important=True)
    assert [t["state"] for t in await _tasks(content, "jtj")] == ["pending"] * 3

    slots = content.ctx.settings.content_push_per_channel
    assert slots == 2
    pusher = NewMediaPusher(content.ctx, content.ctx.state_of(ContentState), content.ctx.settings)
    connector.hold = asyncio.Event()
    started = await pusher.step()
    # The channel's limit: a third try waits while two are in flight to the one account.
    assert len(started) == slots and await pusher.step() == []
    connector.hold.set()
    await asyncio.gather(*started)
    assert await _run(pusher) == 1
    assert [t["state"] for t in await _tasks(content, "jtj")] == ["delivered"] * 3
    assert len(connector.received) == 3 and all(r["valid"] for r in connector.received)
