"""Importing a bundle through the real flow: 入库 with machine review, approval, publication."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.importer.runner import Importer
from tests.identity.helpers import FAST_ARGON2
from tests.migration.helpers import eventually, item, platform_with_site, write_bundle

API = "/api/content/v1"


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def test_migration_approved_items_go_live_searchable_and_archived(tmp_path: Path) -> None:
    lines = [item(n) for n in range(1, 8)]
    lines[2] = item(3, archived=True, archived_at="2024-01-01T00:00:00+08:00")
    bundle = write_bundle(tmp_path / "bundle", lines)
    async with platform_with_site(tmp_path) as target:
        async with target.client() as client:
            outcome = await Importer(client, "jtj", batch=3, approval="抽查通过").run(bundle)
        assert (outcome.imported, outcome.skipped, outcome.failures) == (7, 0, [])
        assert outcome.job["approved_by"]
        c = target.platform.client
        listed = (await c.get(f"{API}/sites/jtj/publications?size=50", headers=target.admin)).json()
        states = {p["title"]: p["status"] for p in listed["items"]}
        assert len(states) == 7
        assert states["关于第3期道路养护施工的通告"] == "archived"
        assert sum(s == "published" for s in states.values()) == 6
        archived = next(p for p in listed["items"] if p["status"] == "archived")
        detail = (await c.get(f"{API}/publications/{archived['id']}", headers=target.admin)).json()
        assert detail["archived_at"] == "2024-01-01T00:00:00+08:00"
        assert detail["published_at"] == "2019-03-04T00:00:00+08:00"
        actions = [r["action"] for r in detail["reviews"]]
        assert actions == ["submit", "approve", "publish", "archive"]

        async def hits() -> int:
            resp = await c.get("/sites/jtj/api/search/v1/search", params={"q": "道路养护施工", "archived": "include"})
            return int(resp.json().get("total", 0)) if resp.status_code == 200 else -1

        assert await eventually(hits, lambda n: n == 7) == 7


async def test_without_approval_items_wait_in_the_review_chain(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle", [item(n) for n in range(1, 4)])
    async with platform_with_site(tmp_path) as target:
        async with target.client() as client:
            outcome = await Importer(client, "jtj").run(bundle)
        assert outcome.imported == 3
        listed = (await target.platform.client.get(f"{API}/sites/jtj/publications", headers=target.admin)).json()
        assert {p["status"] for p in listed["items"]} == {"in_review"}
