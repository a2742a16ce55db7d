"""Rate limits, conditional requests, the response cache and its invalidation, metrics."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from gateway.ratelimit import ClientAddresses, TokenBuckets
from tests.gateway.fakes import PASSWORD, ContentState, rig


def one_site() -> ContentState:
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    return state


async def sign_in(c, user: str):  # type: ignore[no-untyped-def]
    return await c.post(
        "/api/identity/v1/token",
        data={"grant_type": "password", "username": user, "password": PASSWORD, "client_id": "jiyue-console"},
    )


async def test_sign_in_flood_from_one_address_is_limited_while_another_signs_in(tmp_path, issuer) -> None:
    async with (
        rig(tmp_path, issuer, one_site(), gateway_rate_signin_burst=5) as r,
        r.client(address="203.0.113.50") as attacker,
        r.client(address="198.51.100.20") as citizen,
    ):
        results = await asyncio.gather(*(sign_in(attacker, f"guess{i}") for i in range(40)))
        statuses = [resp.status_code for resp in results]
        assert statuses.count(429) >= 30, statuses
        limited = next(resp for resp in results if resp.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("application/problem+json")
        ok = await sign_in(citizen, "zhangsan")
        assert ok.status_code == 200 and ok.json()["access_token"]
        # the attacker's ordinary reads are still served: only sign-in is exhausted
        assert (await attacker.get("/healthz")).status_code == 200


async def test_ipv6_clients_share_their_64_and_mapped_ipv4_is_ipv4() -> None:
    addresses = ClientAddresses([], [], [])
    a = addresses.describe("2001:db8:1:2::1").limit_key
    b = addresses.describe("2001:db8:1:2:ffff::9").limit_key
    other = addresses.describe("2001:db8:1:3::1").limit_key
    assert a == b == "2001:db8:1:2::/64" and other != a
    mapped = addresses.describe("::ffff:192.0.2.4")
    assert (mapped.address, mapped.limit_key) == ("192.0.2.4", "192.0.2.4")
    buckets = TokenBuckets("t", per_second=1.0, burst=2)
    assert buckets.take(a, now=0.0) == 0.0 and buckets.take(b, now=0.0) == 0.0
    assert buckets.take(a, now=0.0) > 0  # the third request of the /64 waits
    assert buckets.take(other, now=0.0) == 0.0
    assert buckets.take(a[1], now=1.5) == 0.0  # refilled


async def test_anonymous_writes_and_token_subjects_have_their_own_buckets(tmp_path, issuer) -> None:
    async with (
        rig(
            tmp_path, issuer, one_site(), gateway_rate_write_burst=3, gateway_rate_subject_burst=4,
            gateway_rate_subject_per_second=0.01,
        ) as r,
        r.client() as c,
    ):  # fmt: skip
        writes = [(await c.post("/api/content/v1/echo")).status_code for _ in range(5)]
        assert writes == [200, 200, 200, 429, 429]
        assert (await c.get("/api/content/v1/echo")).status_code == 200
        alice = issuer.headers("alice")
        reads = [(await c.get("/api/content/v1/echo", headers=alice)).status_code for _ in range(6)]
        assert reads[:4] == [200] * 4 and reads[4:] == [429, 429]
        assert (await c.get("/api/content/v1/echo", headers=issuer.headers("bob"))).status_code == 200


async def test_etag_revalidation_and_cache_invalidated_by_content_feed(tmp_path, issuer) -> None:
    state = one_site()
    state.titles["jtj"] = "旧标题"
    async with rig(tmp_path, issuer, state) as r, r.client(host="jtj.example.gov.cn") as c:
        first = await c.get("/api/content/v1/site")
        etag = first.headers["etag"]
        assert first.headers["cache-control"].startswith("public, max-age=")
        assert first.headers["x-jiyue-cache"] == "miss"
        again = await c.get("/api/content/v1/site")
        assert again.headers["x-jiyue-cache"] == "hit" and again.json() == first.json()
        assert state.calls == 1
        not_modified = await c.get("/api/content/v1/site", headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == etag

        state.titles["jtj"] = "新标题"
        state.emit("publication.published", "9", "jtj")

        async def fresh() -> bool:
            return (await c.get("/api/content/v1/site")).json()["title"] == "新标题"

        await r.until(fresh, within=3.0)
        changed = await c.get("/api/content/v1/site", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_authenticated_reads_bypass_the_cache_but_revalidate(tmp_path, issuer) -> None:
    state = one_site()
    async with rig(tmp_path, issuer, state) as r, r.client(host="jtj.example.gov.cn") as c:
        auth = issuer.headers("editor1")
        first = await c.get("/api/content/v1/items/3", headers=auth)
        second = await c.get(
            "/api/content/v1/items/3", headers={**auth, "If-None-Match": first.headers["etag"]}
        )
        assert second.status_code == 304
        assert first.headers["cache-control"] == "private, no-cache"
        assert state.calls == 2 and "x-jiyue-cache" not in first.headers


async def test_metrics_report_routes_sites_cache_and_limits(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site(), gateway_rate_write_burst=1) as r, r.client() as c:
        for item in (1, 2, 3):
            await c.get(f"/api/content/v1/items/{item}", headers={"Host": "jtj.example.gov.cn"})
        await c.get("/api/content/v1/items/1", headers={"Host": "jtj.example.gov.cn"})
        await c.post("/api/content/v1/echo")
        await c.post("/api/content/v1/echo")
        await c.get("/api/content/v1/no/such/123")
        text = (await c.get("/metrics")).text
    assert (
        'jiyue_gateway_requests_total{method="GET",route="/api/content/v1/items/{item_id}",site="jtj",status="200"} 4.0'
        in text
    )
    assert (
        'jiyue_gateway_request_duration_seconds_bucket{le="0.5",route="/api/content/v1/items/{item_id}",site="jtj"}'
        in text
    )
    assert 'jiyue_gateway_cache_total{result="hit"} 1.0' in text
    assert 'jiyue_gateway_cache_total{result="miss"} 3.0' in text
    assert 'jiyue_gateway_rate_limited_total{bucket="write"} 1.0' in text
    assert 'route="unmatched"' in text and "/no/such/123" not in text
    assert 'jiyue_feed_lag_events{consumer="site-registry",service="gateway"}' in text


async def test_concurrent_misses_of_one_search_reach_the_engine_once(tmp_path, issuer) -> None:
    calls = 0

    slow = FastAPI()

    @slow.get("/api/search/v1/search")
    async def search(q: str = "") -> dict[str, object]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)  # a search slow enough for the others to arrive meanwhile
        return {"total": 1, "items": [{"title": q}]}

    async with rig(tmp_path, issuer, one_site(), search=False) as r, r.client() as c:
        r.gateway.add_local("search", slow)
        answers = await asyncio.gather(
            *(c.get("/sites/jtj/api/search/v1/search", params={"q": "政务"}) for _ in range(20))
        )
        assert [a.status_code for a in answers] == [200] * 20
        assert {a.json()["items"][0]["title"] for a in answers} == {"政务"}
        assert calls == 1
        other = await c.get("/sites/jtj/api/search/v1/search", params={"q": "医保"})
        assert other.status_code == 200 and calls == 2
