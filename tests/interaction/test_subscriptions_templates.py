"""A genre subscription and a site's own mail template, end to end through the gateway with the
real content, resources and feed: what the loopback SMTP server received is what was meant."""

from __future__ import annotations

from pathlib import Path

from services.kernel.db import Database
from tests.support.platform import Platform
from tests.support.publishing import eventually, publish
from tests.support.subscriptions import (
    API,
    PUBLIC,
    SITE,
    Relay,
    deliveries,
    link,
    queued,
    scene,
    subscribe_confirmed,
)

TEMPLATE = f"/sites/{SITE}/api/interaction/v1/subscription-template"
GENRE = "genre@example.com"
READER = "reader@example.com"


async def _count(db: Database, pid: int) -> int:
    return len((await deliveries(db, pid))[1])


async def test_a_genre_subscriber_gets_the_items_of_that_genre_only(tmp_path: Path, relay: Relay) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        db = platform.gateway.local_apps["interaction"].state.ctx.db
        seen = await scene(platform.gateway, c, ["通知公告", "工作动态"], "zhaoliu")
        people = seen.people
        refused = await c.post(
            API, json={"target": "genre", "code": "no-such", "email": GENRE}, headers=seen.citizen
        )
        assert refused.status_code == 422, refused.text
        mine = await subscribe_confirmed(
            c, relay, seen.citizen, {"target": "genre", "code": "dongtai", "email": GENRE}
        )
        assert (mine["target"], mine["code"]) == ("genre", "dongtai")

        notice = await publish(c, SITE, people, seen.columns["通知公告"], "关于春运期间道路管制的通知")
        reading = await publish(
            c, SITE, people, seen.columns["工作动态"], "全市春运交通保障工作动态", genre="dongtai"
        )
        for pid in (notice, reading):
            await eventually(lambda pid=pid: queued(db, pid), lambda r: r.status_code == 200)
        assert await _count(db, notice) == 0 and await _count(db, reading) == 1

        _, item = await relay.mails(GENRE, 2)
        assert item["Subject"] == "示范市交通运输局：全市春运交通保障工作动态"
        plain = item.get_body(("plain",))
        assert (
            plain is not None
            and f"{PUBLIC}/sites/{SITE}/api/content/v1/items/{reading}" in plain.get_content()
        )
        assert item["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert len(relay.inbox.to(GENRE)) == 2  # the confirmation and the one item


async def test_a_sites_own_template_shapes_its_messages_and_a_bad_one_is_refused(
    tmp_path: Path, relay: Relay
) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        seen = await scene(platform.gateway, c, ["通知公告"], "sunqi", roles=("site_admin",))
        admin, editor = seen.people["site_admin"], seen.people["editor"]

        default = await c.get(TEMPLATE, headers=admin)
        assert default.status_code == 200 and default.json()["is_default"] is True, default.text
        assert (await c.get(TEMPLATE, headers=editor)).status_code == 403
        assert (await c.get(TEMPLATE)).status_code == 401

        own = {
            "subject": "【{{ site_name }}】{{ items[0].title }}",
            "text": "{% for item in items %}新信息：{{ item.title }}（{{ item.issuer_org }}）\n{{ item.url }}\n{% endfor %}",
            "html": "<h1>{{ site_name }}</h1>{% for item in items %}<p>{{ item.title }}</p>{% endfor %}",
        }
        for bad, field in (
            ({**own, "subject": "{{ secret }}"}, "subject"),  # a variable templates do not have
            ({**own, "text": "{% for %}"}, "text"),  # does not parse
            ({**own, "html": "{{ items.__class__.__mro__ }}"}, "html"),  # the sandbox refuses it
        ):
            resp = await c.put(TEMPLATE, json=bad, headers=admin)
            assert resp.status_code == 422, (field, resp.text)
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert field in resp.text
        assert (await c.get(TEMPLATE, headers=admin)).json()["is_default"] is True  # nothing stored
        assert (await c.put(TEMPLATE, json=own, headers=editor)).status_code == 403

        saved = await c.put(TEMPLATE, json=own, headers=admin)
        assert saved.status_code == 200 and saved.json()["is_default"] is False, saved.text
        assert (await c.get(TEMPLATE, headers=admin)).json()["subject"] == own["subject"]

        await subscribe_confirmed(
            c, relay, seen.citizen, {"column_id": seen.columns["通知公告"], "email": READER}
        )
        title = "关于<b>春运</b>期间道路管制的通知"
        pid = await publish(c, SITE, seen.people, seen.columns["通知公告"], title, issuer="示范市交通运输局")
        _, item = await relay.mails(READER, 2)
        assert item["Subject"] == f"【示范市交通运输局】{title}"
        plain = item.get_body(("plain",))
        assert plain is not None
        text = plain.get_content()
        assert f"新信息：{title}（示范市交通运输局）" in text
        assert f"{PUBLIC}/sites/{SITE}/api/content/v1/items/{pid}" in text
        assert link(item, "/unsubscribe?token=")  # added outside the template: no template drops it
        html = item.get_body(("html",))
        assert html is not None
        body = html.get_content()
        assert (
            "<h1>示范市交通运输局</h1>" in body
            and "&lt;b&gt;春运&lt;/b&gt;" in body
            and "<b>春运" not in body
        )

        reset = await c.delete(TEMPLATE, headers=admin)
        assert reset.status_code == 200 and reset.json()["is_default"] is True, reset.text
        again = await publish(c, SITE, seen.people, seen.columns["通知公告"], "恢复默认模板后的通知")
        *_, last = await relay.mails(READER, 3)
        assert last["Subject"] == "示范市交通运输局：恢复默认模板后的通知"
        assert again
