"""What an attacker's choice of paths, queries and bodies may cost: bounded series, cache and
limiter state, and no body parsed past its route class's limit."""

from __future__ import annotations

import psutil
from prometheus_client import CollectorRegistry

from gateway.cache import _COLUMN_ITEMS_PARAMS, _SEARCH_PARAMS
from gateway.limits import body_limit
from gateway.ratelimit import _MAX_KEYS, TokenBuckets
from services import registry
from tests.gateway.fakes import ContentState, rig

HOSTILE = 10_000
# Stated bounds: after warm-up, 10,000 hostile requests add no more than these.
MAX_NEW_SERIES = 40
MAX_RSS_GROWTH = 16 * 1024 * 1024


def series(registry: CollectorRegistry) -> int:
    return sum(len(metric.samples) for metric in registry.collect())


def one_site() -> ContentState:
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    return state


async def test_ten_thousand_hostile_paths_and_queries_leave_series_cache_and_rss_bounded(
    tmp_path, issuer
) -> None:
    overrides = {
        "gateway_rate_address_per_second": 1e9,
        "gateway_rate_address_burst": 1e9,
        "gateway_rate_write_burst": 1,
        "gateway_access_log": False,
    }
    async with rig(tmp_path, issuer, one_site(), **overrides) as r, r.client(host="jtj.example.gov.cn") as c:
        bad_token = {"Authorization": "Bearer not-a-token"}

        async def hostile(n: int) -> None:
            kind = n % 4
            if kind == 0:  # 401 at the gateway, on a path no route declares
                await c.get(f"/api/content/v1/x{n}/secret", headers=bad_token)
            elif kind == 1:  # 429 (write bucket), a fresh path each time
                await c.post(f"/api/content/v1/forms{n}", content=b"{}")
            elif kind == 2:  # a cached search, with a parameter no route declares
                await c.get(f"/api/search/v1/search?q=政务&junk{n}=1&size=10")
            else:  # a cached delivery answer under ever new query strings
                await c.get(f"/api/content/v1/items/7?x={n}")

        for n in range(200):
            await hostile(n)
        series_before = series(r.gateway.metrics.registry)
        rss_before = psutil.Process().memory_info().rss
        for n in range(200, HOSTILE):
            await hostile(n)
        series_after = series(r.gateway.metrics.registry)
        rss_after = psutil.Process().memory_info().rss
        cache = r.gateway.cache
        assert cache is not None
        print(
            f"series {series_before} -> {series_after}; rss +{(rss_after - rss_before) / 2**20:.1f} MiB; "
            f"cache {len(cache)} entries"
        )
        assert series_after - series_before <= MAX_NEW_SERIES
        assert rss_after - rss_before <= MAX_RSS_GROWTH
        # unknown query parameters make no new entries: one search, one item
        assert len(cache) <= 2
        text = (await c.get("/metrics", headers={"Host": "localhost"})).text
        assert "/x9999" not in text and "forms9" not in text


async def test_cache_bounded_by_bytes_not_entries(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site(), gateway_cache_max_bytes=64 * 1024) as r:
        async with r.client(host="jtj.example.gov.cn") as c:
            for item in range(1, 400):
                assert (await c.get(f"/api/content/v1/items/{item}")).status_code == 200
        cache = r.gateway.cache
        assert cache is not None and 0 < cache.size_bytes <= 64 * 1024
        assert len(cache) < 399


async def test_answers_marked_no_cache_no_store_or_private_are_never_served_from_cache(
    tmp_path, issuer
) -> None:
    state = one_site()
    state.cache_control = {
        1: "public, no-cache",
        2: "no-store",
        3: "private, max-age=60",
        4: "public, max-age=60",
    }
    async with rig(tmp_path, issuer, state) as r, r.client(host="jtj.example.gov.cn") as c:
        for item in (1, 2, 3, 4):
            before = state.calls
            first = await c.get(f"/api/content/v1/items/{item}")
            second = await c.get(f"/api/content/v1/items/{item}")
            assert first.status_code == second.status_code == 200
            reached = state.calls - before
            assert reached == (1 if item == 4 else 2), (item, state.cache_control[item], reached)
            assert first.headers["cache-control"] == state.cache_control[item]


def test_cache_keys_use_exactly_the_parameters_the_routes_declare() -> None:
    declared = {}
    for spec in registry.SERVICES:
        if spec.name not in ("content", "search"):
            continue
        app = spec.app_module.create_app(spec.app_module.settings_class(data_dir="/nonexistent-jiyue"))
        for path, ops in app.openapi()["paths"].items():
            if "get" in ops:
                declared[path] = {p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"}
    for path, params in _SEARCH_PARAMS.items():
        assert declared[path] == params, path
    assert declared["/api/content/v1/columns/{column_id}/items"] == _COLUMN_ITEMS_PARAMS


def test_a_flood_of_new_keys_does_not_reset_a_limited_client() -> None:
    buckets = TokenBuckets("signin", per_second=0.0001, burst=1)
    assert buckets.take("victim-of-limits", now=0.0) == 0.0
    for n in range(_MAX_KEYS + 10):
        buckets.take(f"flood-{n}", now=0.0)
        if n % 1000 == 0:
            # the limited client keeps trying through the flood and stays limited
            assert buckets.take("victim-of-limits", now=0.0) > 0, n


async def test_bodies_past_their_route_class_limit_are_refused_before_parsing(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site(), gateway_body_limit_json=1000) as r, r.client() as c:
        declared = await c.post(
            "/api/content/v1/echo", content=b"x" * 5000, headers={"Content-Type": "application/json"}
        )
        assert declared.status_code == 413
        assert declared.headers["content-type"].startswith("application/problem+json")
        assert "1000" in declared.json()["detail"]

        async def chunks(total: int):  # type: ignore[no-untyped-def]
            for _ in range(total // 500):
                yield b"y" * 500

        chunked = await c.post("/api/content/v1/echo", content=chunks(5000))
        assert chunked.status_code == 413, chunked.text
        assert chunked.headers["content-type"].startswith("application/problem+json")
        small = await c.post("/api/content/v1/echo", content=chunks(500))
        assert small.status_code == 200 and small.json()["body"] == "y" * 500


def test_uploads_get_the_upload_limit_and_everything_else_the_json_limit() -> None:
    limits = {"json_limit": 10, "upload_limit": 1000}
    assert body_limit("POST", "/api/resources/v1/resources/5/attachments", **limits) == 1000
    assert body_limit("POST", "/api/resources/v1/resources", **limits) == 10
    assert body_limit("POST", "/api/identity/v1/token", **limits) == 10
    assert body_limit("PATCH", "/api/content/v1/items/5/attachments", **limits) == 10
