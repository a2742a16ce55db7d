"""With real identity tokens: an editor of one site gets 404 for another site's drafts, in
every service that holds drafts (resources: draft resources; content: draft publications)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.identity.helpers import bearer, internal_token, make_user, user_token
from tests.support.platform import Platform


async def _eventually(fetch: Any, ok: Any, seconds: float = 10.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = await fetch()
        if ok(resp) or time.monotonic() > deadline:
            return resp  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)


async def _site(c: httpx.AsyncClient, admin: dict[str, str], code: str, name: str, id_code: str) -> int:
    body = {
        "code": code,
        "name": name,
        "kind": "department",
        "domains": [f"{code}.sfs.gov.cn"],
        "id_code": id_code,
    }
    assert (await c.post("/api/content/v1/sites", json=body, headers=admin)).status_code == 201
    assert (
        await c.post(f"/api/content/v1/sites/{code}/status", json={"status": "online"}, headers=admin)
    ).status_code == 200
    known = await _eventually(
        lambda: c.get(f"/sites/{code}/api/content/v1/site"), lambda r: r.status_code == 200
    )
    assert known.status_code == 200, known.text
    column = await c.post(f"/api/content/v1/sites/{code}/columns", json={"name": "通知公告"}, headers=admin)
    assert column.status_code == 201, column.text
    return int(column.json()["id"])


async def test_an_editor_gets_404_for_another_sites_drafts_in_every_service(platform: Platform) -> None:
    c = platform.client
    internal = await internal_token(c, platform.settings)
    admin = bearer(internal)
    column = await _site(c, admin, "jtj", "示范市交通运输局", "bm99010010")
    await _site(c, admin, "jyj", "示范市教育局", "bm99010002")
    _, pw_a = await make_user(c, internal, "jtj_editor", [("editor", "jtj")])
    _, pw_b = await make_user(c, internal, "jyj_editor", [("editor", "jyj")])
    owner = bearer(await user_token(c, "jtj_editor", pw_a))
    stranger = bearer(await user_token(c, "jyj_editor", pw_b))

    draft = {
        "metadata": {
            "title": "关于调整公交线路的通知",
            "issuer_org": {"code": "jtj", "name": "示范市交通运输局"},
            "genre": "tongzhi",
        },
        "body_html": "<p>关于调整公交线路的通知。</p>",
        "scope": "own_site",
    }
    made = await c.post("/sites/jtj/api/resources/v1/resources", json=draft, headers=owner)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    stored = await c.post(f"/sites/jtj/api/resources/v1/resources/{rid}/store", headers=owner)
    assert stored.status_code == 200, stored.text
    placed = await c.post(
        "/api/content/v1/sites/jtj/publications",
        json={"column_id": column, "resource_id": rid, "resource_version": stored.json()["version"]},
        headers=owner,
    )
    assert placed.status_code == 201, placed.text
    pid = placed.json()["id"]

    # The owner reads both; the other site's editor is told they do not exist.
    assert (await c.get(f"/sites/jtj/api/resources/v1/resources/{rid}", headers=owner)).status_code == 200
    assert (await c.get(f"/api/content/v1/publications/{pid}", headers=owner)).status_code == 200
    for method, path, body in (
        ("GET", f"/sites/jyj/api/resources/v1/resources/{rid}", None),
        ("PATCH", f"/sites/jyj/api/resources/v1/resources/{rid}", {"body_html": "<p>改</p>"}),
        ("GET", f"/api/content/v1/publications/{pid}", None),
        ("POST", f"/api/content/v1/publications/{pid}/submit", {}),
    ):
        resp = await c.request(method, path, json=body, headers=stranger)
        assert resp.status_code == 404, f"{method} {path}: {resp.status_code} {resp.text[:200]}"
        assert resp.headers["content-type"].startswith("application/problem+json")
