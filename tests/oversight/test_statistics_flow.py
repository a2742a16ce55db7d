"""Page views and unique visitors, counted from what the gateway actually served."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.identity.helpers import FAST_ARGON2, bearer, make_user, user_token
from tests.support.platform import Platform


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def test_visits_through_the_gateway_reach_the_statistics(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        content = platform.gateway.directory.client("content")
        site = {
            "code": "wjw",
            "name": "示范市卫生健康委员会",
            "kind": "department",
            "domains": ["wjw.sfs.gov.cn"],
            "id_code": "bm99010030",
        }
        assert (await content.post("/api/content/v1/sites", json=site)).status_code == 201
        assert (
            await content.post("/api/content/v1/sites/wjw/status", json={"status": "online"})
        ).status_code == 200
        token = await platform.gateway.directory.auth.token()
        _, password = await make_user(platform.client, token, "wjw_auditor", [("auditor", "wjw")])
        auditor = bearer(await user_token(platform.client, "wjw_auditor", password))
        deadline = time.monotonic() + 10
        while (await platform.client.get("/sites/wjw/api/content/v1/site")).status_code != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

        visitors = ["192.0.2.10", "192.0.2.11", "2001:db8::5"]
        for address in visitors:
            transport = httpx.ASGITransport(app=platform.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as visitor:
                for _ in range(3):
                    by_host = await visitor.get("/api/content/v1/site", headers={"Host": "wjw.sfs.gov.cn"})
                    assert by_host.status_code == 200
                assert (
                    await visitor.get("/api/content/v1/nothing-here", headers={"Host": "wjw.sfs.gov.cn"})
                ).status_code == 404

        stats: dict[str, object] = {}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            resp = await platform.client.get("/api/oversight/v1/sites/wjw/statistics", headers=auditor)
            assert resp.status_code == 200, resp.text
            stats = resp.json()
            if stats["page_views"] >= 9:
                break
            await asyncio.sleep(0.2)
        # The auditor's own polling is not a page view of the site (it names no site page).
        assert stats["page_views"] == 9 + 1, stats  # + the readiness probe of the site above
        assert stats["unique_visitors"] == 4, stats  # three visitors and the test's own client
        assert stats["top_pages"] == [{"kind": "site", "ref": "", "views": 10}]
