"""Subscriptions to topics and keywords, refused input, and the citizen's own feed, end to end
through the gateway with the real content, resources and feed, and a loopback SMTP server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from services.interaction.models import Subscription, SubscriptionDelivery, SubscriptionKeyword
from services.kernel.db import Database
from tests.support.platform import Platform
from tests.support.publishing import eventually, publish
from tests.support.subscriptions import API, SITE, Relay, deliveries, link, queued, scene

KEYWORD = "kw@example.com"
TOPIC = "topic@example.com"


async def _stored(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        subs = (await session.execute(select(func.count()).select_from(Subscription))).scalar_one()
        words = (await session.execute(select(func.count()).select_from(SubscriptionKeyword))).scalar_one()
        return int(subs), int(words)


async def test_topic_and_keyword_subscribers_get_what_matches_and_the_feed_lists_it_newest_first(
    tmp_path: Path,
    relay: Relay,
) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        db = gw.local_apps["interaction"].state.ctx.db
        seen = await scene(gw, c, ["通知公告"], "lisi")
        columns, others, people, citizen = seen.columns, seen.others, seen.people, seen.citizen
        notice = columns["通知公告"]

        # Refused, each a 4xx, and nothing stored.
        for body, status in (
            ({"target": "keywords", "keywords": [f"词{i}" for i in range(10_000)], "email": KEYWORD}, 422),
            ({"target": "keywords", "keywords": ["医" * 21], "email": KEYWORD}, 422),
            ({"target": "keywords", "keywords": ["100%"], "email": KEYWORD}, 422),
            ({"target": "keywords", "email": KEYWORD}, 422),
            ({"target": "topic", "code": "no-such-topic", "email": TOPIC}, 422),
            ({"target": "genre", "code": "no-such-genre", "email": TOPIC}, 422),
            ({"target": "topic", "code": "gongye", "column_id": notice, "email": TOPIC}, 422),
            ({"target": "topic", "code": "gongye", "email": "topic@例子.中国"}, 422),
            ({"column_id": others["内部通知"], "email": TOPIC}, 404),
            ({"column_id": 987654, "email": TOPIC}, 404),
        ):
            resp = await c.post(API, json=body, headers=citizen)
            assert resp.status_code == status, (body, resp.text)
            assert resp.headers["content-type"].startswith("application/problem+json")
        assert await _stored(db) == (0, 0)

        for body, address in (
            ({"target": "keywords", "keywords": ["医保"], "email": KEYWORD}, KEYWORD),
            ({"target": "topic", "code": "gongye", "email": TOPIC}, TOPIC),
        ):
            made = await c.post(API, json=body, headers=citizen)
            assert made.status_code == 201, made.text
            (confirmation,) = await relay.mails(address, 1)
            confirmed = await c.post(link(confirmation, "/confirm?token="))
            assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
        mine = (await c.get(API, headers=citizen)).json()["items"]
        assert [(s["target"], s["code"], s["keywords"]) for s in mine] == [
            ("keywords", None, ["医保"]),
            ("topic", "gongye", []),
        ]

        health = await publish(
            c, SITE, people, notice, "关于提高城乡居民医疗保障水平的通知", topic="weisheng"
        )
        await eventually(lambda: queued(db, health), lambda r: r.status_code == 200)
        roads = await publish(c, SITE, people, notice, "关于春运期间道路管制的通知", topic="gongye")
        await eventually(lambda: queued(db, roads), lambda r: r.status_code == 200)

        _, kw_mail = await relay.mails(KEYWORD, 2)
        assert kw_mail["Subject"] == "示范市交通运输局：关于提高城乡居民医疗保障水平的通知"
        _, topic_mail = await relay.mails(TOPIC, 2)
        assert topic_mail["Subject"] == "示范市交通运输局：关于春运期间道路管制的通知"
        # Each item went to its one subscriber only: one row per matching subscription.
        assert len((await deliveries(db, health))[1]) == 1
        assert len((await deliveries(db, roads))[1]) == 1
        async with db.session() as session:
            total = (
                await session.execute(select(func.count()).select_from(SubscriptionDelivery))
            ).scalar_one()
        assert total == 2
        assert len(relay.inbox.to(KEYWORD)) == 2 and len(relay.inbox.to(TOPIC)) == 2

        # My feed: newest first, one page at a time.
        first = await c.get(f"{API}/feed", params={"size": 1}, headers=citizen)
        assert first.status_code == 200, first.text
        assert [i["publication_id"] for i in first.json()["items"]] == [roads]
        cursor = first.json()["next_cursor"]
        assert cursor
        rest = await c.get(f"{API}/feed", params={"size": 1, "cursor": cursor}, headers=citizen)
        assert [i["publication_id"] for i in rest.json()["items"]] == [health]
        assert rest.json()["next_cursor"] is None
        whole = await c.get(f"{API}/feed", headers=citizen)
        assert [i["title"] for i in whole.json()["items"]] == [
            "关于春运期间道路管制的通知",
            "关于提高城乡居民医疗保障水平的通知",
        ]
        assert (await c.get(f"{API}/feed")).status_code == 401
        assert (await c.get(f"{API}/feed", params={"cursor": "x"}, headers=citizen)).status_code == 422
