"""Which site a request is for: host, prefix, Chinese domains, live registry, closed sites."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import idna

from tests.gateway.fakes import ContentState, rig

CHINESE_DOMAIN = "交通局.示范市.政务"


def two_sites() -> ContentState:
    state = ContentState()
    state.add_site("portal", ["www.example.gov.cn"])
    state.add_site("jtj", ["jtj.example.gov.cn", CHINESE_DOMAIN])
    state.titles = {"portal": "示范市人民政府", "jtj": "示范市交通运输局"}
    return state


async def test_same_path_under_two_hosts_answers_two_sites(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, two_sites()) as r, r.client() as c:
        portal = await c.get("/api/content/v1/site", headers={"Host": "www.example.gov.cn"})
        jtj = await c.get("/api/content/v1/site", headers={"Host": "JTJ.example.gov.cn:8443"})
        assert portal.status_code == jtj.status_code == 200
        assert portal.json() == {"site": "portal", "title": "示范市人民政府"}
        assert jtj.json() == {"site": "jtj", "title": "示范市交通运输局"}
        prefixed = await c.get("/sites/jtj/api/content/v1/site")
        assert prefixed.json()["site"] == "jtj"


async def test_chinese_domain_in_punycode_and_unicode(tmp_path, issuer) -> None:
    puny = idna.encode(CHINESE_DOMAIN, uts46=True).decode()
    assert puny.startswith("xn--")
    async with rig(tmp_path, issuer, two_sites()) as r, r.client() as c:
        by_puny = await c.get("/api/content/v1/items/7", headers={"Host": puny})
        assert by_puny.status_code == 200 and by_puny.json() == {"id": 7, "site": "jtj"}
        raw = [(b"host", CHINESE_DOMAIN.encode("utf-8"))]
        by_unicode = await c.get("/api/content/v1/items/8", headers=raw)
        assert by_unicode.status_code == 200 and by_unicode.json()["site"] == "jtj"


async def test_spoofed_tenant_and_client_headers_are_replaced(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, two_sites()) as r, r.client(address="203.0.113.9") as c:
        resp = await c.post(
            "/api/content/v1/echo",
            headers={
                "Host": "www.example.gov.cn",
                "X-Jiyue-Site": "jtj",
                "X-Jiyue-Client-IP": "10.0.0.1",
            },
            content="内容",
        )
        seen = resp.json()["headers"]
        assert seen["x-jiyue-site"] == "portal"
        assert seen["x-jiyue-client-ip"] == "203.0.113.9"
        assert resp.json()["body"] == "内容"
        # on the platform host a spoofed tenant is simply dropped
        plain = await c.get("/api/content/v1/echo", headers={"X-Jiyue-Site": "jtj"})
        assert "x-jiyue-site" not in plain.json()["headers"]


async def test_new_site_domain_works_without_restart(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, two_sites()) as r, r.client() as c:
        host = {"Host": "wjw.example.gov.cn"}
        assert (await c.get("/api/content/v1/site", headers=host)).status_code == 404
        started = time.monotonic()
        r.content.add_site("wjw", ["wjw.example.gov.cn"])

        async def served() -> bool:
            return (await c.get("/api/content/v1/site", headers=host)).status_code == 200

        await r.until(served, within=3.0)
        assert time.monotonic() - started < 3.0
        assert (await c.get("/api/content/v1/site", headers=host)).json()["site"] == "wjw"


async def test_unknown_host_and_unknown_prefix_are_404_problems(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, two_sites()) as r, r.client() as c:
        for resp in (
            await c.get("/api/content/v1/site", headers={"Host": "evil.example.com"}),
            await c.get("/sites/nosuch/api/content/v1/site"),
        ):
            assert resp.status_code == 404
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert resp.json()["status"] == 404


async def test_suspended_site_answers_503_with_retry_after_and_notice(tmp_path, issuer) -> None:
    state = two_sites()
    resume = datetime.now(UTC) + timedelta(hours=2)
    state.add_site(
        "jtj",
        ["jtj.example.gov.cn"],
        "suspended",
        notice="网站升级改造，暂停访问",
        resume_at=resume.isoformat(),
    )
    async with rig(tmp_path, issuer, state) as r, r.client() as c:
        resp = await c.get("/api/content/v1/site", headers={"Host": "jtj.example.gov.cn"})
        assert resp.status_code == 503
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert 7100 <= int(resp.headers["retry-after"]) <= 7200
        assert resp.json()["detail"] == "网站升级改造，暂停访问"
        assert state.calls == 0
        # the portal is unaffected
        ok = await c.get("/api/content/v1/site", headers={"Host": "www.example.gov.cn"})
        assert ok.status_code == 200


async def test_offline_site_redirects_items_to_where_they_moved(tmp_path, issuer) -> None:
    state = two_sites()
    state.add_site("jtj", ["jtj.example.gov.cn"], "offline", notice="本站已整合至门户", redirect_to="portal")
    async with rig(tmp_path, issuer, state) as r, r.client() as c:
        host = {"Host": "jtj.example.gov.cn"}
        item = await c.get("/api/content/v1/items/42", headers=host)
        assert item.status_code == 308
        assert item.headers["location"] == "http://www.example.gov.cn/api/content/v1/items/42"
        listing = await c.get("/api/content/v1/columns/3/items", headers=host)
        assert listing.status_code == 308
        assert listing.headers["location"] == "http://www.example.gov.cn/api/content/v1/site"
        search = await c.get("/api/search/v1/search", params={"q": "交通"}, headers=host)
        assert search.headers["location"].startswith("http://www.example.gov.cn/api/search/v1/search?q=")
        prefixed = await c.get("/sites/jtj/api/content/v1/items/42")
        assert prefixed.status_code == 308
        write = await c.post("/api/content/v1/echo", headers=host)
        assert write.status_code == 410 and write.json()["detail"] == "本站已整合至门户"
        # following the redirect lands on the portal with the same item
        moved = await c.get(item.headers["location"])
        assert moved.status_code == 200 and moved.json() == {"id": 42, "site": "portal"}


async def test_offline_site_without_destination_is_gone(tmp_path, issuer) -> None:
    state = two_sites()
    state.add_site("jtj", ["jtj.example.gov.cn"], "offline", notice="已关停")
    async with rig(tmp_path, issuer, state) as r, r.client() as c:
        resp = await c.get("/api/content/v1/items/1", headers={"Host": "jtj.example.gov.cn"})
        assert resp.status_code == 410 and resp.json()["detail"] == "已关停"
