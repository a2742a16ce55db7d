"""The gateway with the real identity and content services: sites come from content's registry."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import idna
import pytest

from tests.gateway.servers import closed_port
from tests.identity.helpers import FAST_ARGON2, bearer, internal_token, make_user, password_login
from tests.support.platform import Platform


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def eventually(fetch: Any, ok: Any, seconds: float = 5.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = await fetch()
        if ok(resp) or time.monotonic() > deadline:
            return resp  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)


async def make_site(
    c: httpx.AsyncClient, admin: dict[str, str], code: str, name: str, domains: list[str]
) -> None:
    body = {
        "code": code,
        "name": name,
        "kind": "department",
        "domains": domains,
        "id_code": f"bm9901{len(code):04d}",
    }
    made = await c.post("/api/content/v1/sites", json=body, headers=admin)
    assert made.status_code == 201, made.text
    live = await c.post(f"/api/content/v1/sites/{code}/status", json={"status": "online"}, headers=admin)
    assert live.status_code == 200, live.text


async def test_real_registry_hosts_and_new_domains_without_restart(tmp_path: Path) -> None:
    chinese = "交通.示范市.政务"
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        admin = bearer(await internal_token(c, platform.settings))
        await make_site(c, admin, "jtj", "示范市交通运输局", ["jtj.sfs.gov.cn", chinese])
        started = time.monotonic()
        jtj = await eventually(
            lambda: c.get("/api/content/v1/site", headers={"Host": "jtj.sfs.gov.cn"}),
            lambda r: r.status_code == 200,
        )
        assert jtj.status_code == 200, jtj.text
        assert time.monotonic() - started < 5.0  # picked up from content's feed, no restart
        await make_site(c, admin, "wjw", "示范市卫生健康委员会", ["wjw.sfs.gov.cn"])
        wjw = await eventually(
            lambda: c.get("/api/content/v1/site", headers={"Host": "wjw.sfs.gov.cn"}),
            lambda r: r.status_code == 200,
        )
        assert wjw.status_code == 200, wjw.text
        assert wjw.text != jtj.text and "卫生健康" in wjw.text and "交通运输" in jtj.text
        puny = await c.get(
            "/api/content/v1/site", headers={"Host": idna.encode(chinese, uts46=True).decode()}
        )
        assert puny.status_code == 200 and puny.text == jtj.text
        spoofed = await c.get(
            "/api/content/v1/site", headers={"Host": "wjw.sfs.gov.cn", "X-Jiyue-Site": "jtj"}
        )
        assert spoofed.text == wjw.text
        unknown = await c.get("/api/content/v1/site", headers={"Host": "nosuch.sfs.gov.cn"})
        assert unknown.status_code == 404
        metrics = (await c.get("/metrics")).text
        # each in-process service's feed consumers report their lag
        assert 'jiyue_feed_lag_events{consumer="search-publications",service="search"}' in metrics
        assert 'route="/api/content/v1/site",site="wjw"' in metrics


async def test_sign_in_flood_with_real_identity(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        internal = await internal_token(platform.client, platform.settings)
        await make_user(platform.client, internal, "zhangsan")
        _, other_password = await make_user(platform.client, internal, "lisi")

        def client_from(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=platform.app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://localhost")

        async with client_from("2001:db8:bad::1") as attacker, client_from("198.51.100.30") as citizen:
            burst = int(platform.settings.gateway_rate_signin_burst)
            statuses = [
                (await password_login(attacker, "zhangsan", f"guess-{i}")).status_code
                for i in range(burst + 10)
            ]
            assert 429 not in statuses[:burst] and statuses[burst:] == [429] * 10, statuses
            # the same /64 is the same client
            async with client_from("2001:db8:bad::2") as neighbour:
                assert (await password_login(neighbour, "lisi", other_password)).status_code == 429
            # (zhangsan is now locked by identity itself; another citizen signs in normally)
            ok = await password_login(citizen, "lisi", other_password)
            assert ok.status_code == 200, ok.text


async def test_split_mode_with_search_stopped(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    async with Platform.start(tmp_path, gateway_backends={"search": dead}) as platform:
        c = platform.client
        started = time.monotonic()
        search = await c.get("/api/search/v1/search", params={"q": "交通"})
        assert search.status_code == 503 and time.monotonic() - started < 2.0
        assert search.headers["content-type"].startswith("application/problem+json")
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and "search" in ready.json()["down"], ready.text
        assert ready.json()["services"]["identity"]["status"] == "ready"
        assert (await c.get("/.well-known/jwks.json")).status_code == 200
        admin = bearer(await internal_token(c, platform.settings))
        assert (await c.get("/api/content/v1/sites", headers=admin)).status_code == 200
