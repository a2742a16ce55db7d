"""Through the gateway, with the real identity, resources and search services."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.identity.helpers import FAST_ARGON2, bearer, internal_token, make_user, user_token
from tests.support.platform import Platform


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def _eventually(fetch: Any, ok: Any, seconds: float = 10.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = await fetch()
        if ok(resp) or time.monotonic() > deadline:
            return resp  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)


async def test_editor_places_two_reviewers_approve_item_goes_live(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        internal = await internal_token(c, platform.settings)
        admin = bearer(internal)
        site = {
            "code": "jtj",
            "name": "示范市交通运输局",
            "kind": "department",
            "domains": ["jtj.sfs.gov.cn"],
            "id_code": "bm99010010",
        }
        assert (await c.post("/api/content/v1/sites", json=site, headers=admin)).status_code == 201
        assert (
            await c.post("/api/content/v1/sites/jtj/status", json={"status": "online"}, headers=admin)
        ).status_code == 200
        known = await _eventually(
            lambda: c.get("/sites/jtj/api/content/v1/site"), lambda r: r.status_code == 200
        )
        assert known.status_code == 200, known.text  # the gateway picked the new site up from the feed
        column = await c.post(
            "/api/content/v1/sites/jtj/columns",
            json={"name": "通知公告", "review_chain": ["reviewer", "reviewer"]},
            headers=admin,
        )
        col = column.json()["id"]
        tokens: dict[str, dict[str, str]] = {}
        for name, role in (("editor", "editor"), ("reviewer1", "reviewer"), ("reviewer2", "reviewer")):
            _, password = await make_user(c, internal, f"jtj_{name}", [(role, "jtj")])
            tokens[name] = bearer(await user_token(c, f"jtj_{name}", password))

        async def new_resource(title: str, store: bool = True) -> tuple[int, int]:
            body = {
                "metadata": {
                    "title": title,
                    "issuer_org": {"code": "jtj", "name": "示范市交通运输局"},
                    "genre": "tongzhi",
                    "keywords": ["交通"],
                },
                "body_html": f"<p>{title}。请广大市民合理安排出行。</p>",
                "scope": "own_site",
            }
            made = await c.post("/sites/jtj/api/resources/v1/resources", json=body, headers=tokens["editor"])
            assert made.status_code == 201, made.text
            rid = int(made.json()["id"])
            if not store:
                return rid, 1
            stored = await c.post(
                f"/sites/jtj/api/resources/v1/resources/{rid}/store", headers=tokens["editor"]
            )
            assert stored.status_code == 200, stored.text
            return rid, int(stored.json()["version"])

        rid, version = await new_resource("关于滨江路封闭施工的通告")
        placed = await c.post(
            "/api/content/v1/sites/jtj/publications",
            json={"column_id": col, "resource_id": rid, "resource_version": version},
            headers=tokens["editor"],
        )
        assert placed.status_code == 201, placed.text
        pid = placed.json()["id"]

        def act(action: str, who: str, **body: Any) -> Any:
            return c.post(f"/api/content/v1/publications/{pid}/{action}", json=body, headers=tokens[who])

        check = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
        unreviewed = await act("publish", "editor")
        assert unreviewed.status_code == 409
        assert unreviewed.headers["content-type"].startswith("application/problem+json")
        assert (await act("submit", "editor")).status_code == 200
        assert (
            await act("approve", "editor", **check)
        ).status_code == 403  # not a reviewer, and the submitter
        assert (await act("approve", "reviewer1", **check)).status_code == 200
        assert (await act("approve", "reviewer1", **check)).status_code == 403
        assert (await act("approve", "reviewer2", **check)).status_code == 200
        assert (await act("publish", "editor")).status_code == 200

        item_url = f"/sites/jtj/api/content/v1/items/{pid}"
        item = await _eventually(lambda: c.get(item_url), lambda r: r.status_code == 200)
        assert item.status_code == 200, item.text
        assert item.json()["meta"]["SiteIDCode"] == "bm99010010"
        assert (await c.get(item_url, headers={"If-None-Match": item.headers["etag"]})).status_code == 304
        by_host = await c.get(f"/api/content/v1/items/{pid}", headers={"Host": "jtj.sfs.gov.cn"})
        assert by_host.status_code == 200 and by_host.json()["id"] == pid

        unstored_rid, _ = await new_resource("尚未入库的稿件", store=False)
        refused = await c.post(
            "/api/content/v1/sites/jtj/publications",
            json={"column_id": col, "resource_id": unstored_rid, "resource_version": 1},
            headers=tokens["editor"],
        )
        assert refused.status_code in (409, 422), refused.text

        found = await _eventually(
            lambda: c.get("/sites/jtj/api/search/v1/search", params={"q": "滨江路"}),
            lambda r: r.status_code == 200 and r.json().get("total", 0) >= 1,
        )
        assert found.status_code == 200 and found.json()["items"][0]["id"] == pid, found.text
