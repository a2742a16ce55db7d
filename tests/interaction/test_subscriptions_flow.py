"""A citizen's e-mail subscription end to end through the gateway, with the real identity,
content and feed, and a real SMTP server on loopback that is stopped and started again."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.kernel.db import Database
from tests.support.platform import Platform
from tests.support.publishing import eventually, publish
from tests.support.subscriptions import API, PUBLIC, SITE, Relay, deliveries, link, scene

EMAIL = "wxm@example.com"


async def test_subscribe_confirm_receive_survive_a_relay_outage_and_unsubscribe(
    tmp_path: Path, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The outage outlasts the metrics' refresh (5 s): enough tries at the fixture's short backoff.
    monkeypatch.setenv("JIYUE_SUBSCRIPTION_MAX_ATTEMPTS", "100")
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        db = gw.local_apps["interaction"].state.ctx.db
        seen = await scene(gw, c, ["通知公告", "政策解读"], "wangxm")
        columns, others, people, citizen = seen.columns, seen.others, seen.people, seen.citizen

        # Bad input: a clear 4xx each, and nothing stored.
        notice = columns["通知公告"]
        for body, status in (
            ({"column_id": notice, "email": "not-an-address"}, 422),
            ({"column_id": notice, "email": "a b@example.com"}, 422),
            ({"column_id": notice, "email": EMAIL, "rhythm": "hourly"}, 422),
            ({"column_id": others["内部通知"], "email": EMAIL}, 404),  # another site's column
            ({"column_id": 987654, "email": EMAIL}, 404),
        ):
            resp = await c.post(API, json=body, headers=citizen)
            assert resp.status_code == status, (body, resp.text)
        assert (await c.post(API, json={"column_id": notice, "email": EMAIL})).status_code == 401
        assert (await c.get(API, headers=citizen)).json()["items"] == []

        made = await c.post(API, json={"column_id": notice, "email": EMAIL}, headers=citizen)
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "pending" and made.json()["confirmation_sent"] is True
        (confirmation,) = await relay.mails(EMAIL, 1)
        confirm = link(confirmation, "/confirm?token=")

        # Not yet confirmed: an item published now reaches nobody.
        early = await publish(c, SITE, people, notice, "确认前发布的通知")
        await eventually(lambda: _probe(db, early), lambda r: r.status_code == 200)
        assert (await deliveries(db, early))[1] == []

        assert (await c.post(confirm + "x")).status_code == 422  # a forged signature
        confirmed = await c.post(confirm)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
        mine = (await c.get(API, headers=citizen)).json()["items"]
        assert [(s["column_id"], s["email"], s["status"]) for s in mine] == [(notice, EMAIL, "confirmed")]

        important = await publish(c, SITE, people, notice, "关于春运期间道路管制的紧急通知", important=True)
        _, item_mail = await relay.mails(EMAIL, 2)
        assert item_mail["Subject"] == "【重要】示范市交通运输局：关于春运期间道路管制的紧急通知"
        assert item_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        plain = item_mail.get_body(("plain",))
        assert plain is not None and f"/sites/{SITE}/api/content/v1/items/{important}" in plain.get_content()
        assert item_mail.get_body(("html",)) is not None
        unsubscribe = link(item_mail, "/unsubscribe?token=")
        assert str(item_mail["List-Unsubscribe"]) == f"<{PUBLIC}{unsubscribe}>"

        # The relay goes away: the next item waits, retried, and lands when the relay is back.
        relay.stop()
        waited = await publish(c, SITE, people, notice, "停电期间发布的通知")
        await eventually(lambda: _probe(db, waited, tried=True), lambda r: r.status_code == 200)
        # The operator's scraper sees the waiting delivery on the platform's /metrics (the
        # gateway's, where an all-in-one deployment is scraped) and on the service's own:
        # the queue's depth and its age (the sender refreshes them every 5 s).
        scrape = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gw.local_apps["interaction"]), base_url="http://interaction"
        )
        metrics = await eventually(lambda: c.get("/metrics"), _backlog_shown, seconds=15)
        assert _backlog_shown(metrics), metrics.text
        async with scrape:
            assert _backlog_shown(await scrape.get("/metrics"))
        relay.start()
        *_, late = await relay.mails(EMAIL, 3)
        assert late["Subject"] == "示范市交通运输局：停电期间发布的通知"

        # One click, no sign-in (RFC 8058 posts a form body); a second click answers the same.
        for _ in range(2):
            gone = await c.post(
                unsubscribe,
                content="List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert gone.status_code == 200 and gone.json()["status"] == "unsubscribed", gone.text
        after = await publish(c, SITE, people, notice, "退订后发布的通知")
        await eventually(lambda: _probe(db, after), lambda r: r.status_code == 200)
        assert (await deliveries(db, after))[1] == []
        assert len(relay.inbox.to(EMAIL)) == 3


def _backlog_shown(resp: httpx.Response) -> bool:
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in resp.text.splitlines()
        if line.startswith("jiyue_subscription_queue_")
    }
    return (
        samples.get('jiyue_subscription_queue_depth{lane="ordinary"}', 0) >= 1
        and samples.get('jiyue_subscription_queue_oldest_seconds{lane="ordinary"}', 0) > 0
    )


async def _probe(db: Database, pid: int, tried: bool = False) -> httpx.Response:
    """200 once the item reached the queue (and, with `tried`, a delivery of it failed once)."""
    seen, rows = await deliveries(db, pid)
    ok = seen and (not tried or any(r.attempts >= 1 and r.status == "pending" for r in rows))
    return httpx.Response(200 if ok else 204)
