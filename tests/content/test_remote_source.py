"""转载 from a peer platform at the content level: only subscribed columns keep a peer's item,
receiving is idempotent, the task is due 12 h after the source went live, the copy carries its
provenance in the page meta, a withdrawal takes it down, and nobody but the platform's own
federation may hand content a peer's item."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from tests.content.conftest import Content

SOURCE_AT = "2026-12-03T09:00:00+08:00"


def _item(publication_id: int = 77, column_id: int = 5) -> dict[str, Any]:
    return {
        "peer": "province", "site": "gov", "column_id": column_id, "publication_id": publication_id,
        "title": "关于进一步优化营商环境的若干措施", "body_html": "<p>各市人民政府：<b>现将</b>措施印发。</p>",
        "metadata": {"title": "关于进一步优化营商环境的若干措施", "doc_no": "示政发〔2026〕9号"},
        "resource_id": 4242, "resource_version": 2,
        "url": "https://www.province.gov.cn/sites/gov/api/content/v1/items/77", "published_at": SOURCE_AT,
    }  # fmt: skip


async def _wait(check, seconds: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := await check():
            return found
        await asyncio.sleep(0.02)
    return None


async def test_a_peer_item_reaches_subscribed_columns_once_with_provenance(content_live: Content) -> None:
    content = content_live
    c = content.client
    internal = content.issuer.headers("federation", scope="internal", kind="client")
    await content.site("shi", kind="portal", domains=["www.shi.gov.cn"])
    target = await content.column("shi", "转载上级政策")
    # Not subscribed yet: the item is not kept.
    nobody = await c.post("/api/content/v1/remote-items", json=_item(), headers=internal)
    assert nobody.status_code == 200 and nobody.json() == {
        "task_id": None,
        "kept": False,
        "remote_item_id": None,
        "tasks_created": 0,
    }
    sub = {"column_id": target, "source_column_id": 5, "source_peer": "province", "auto_publish": True}
    missing_site = await c.post(
        "/api/content/v1/sites/shi/subscriptions", json=sub, headers=content.site_admin("shi")
    )
    assert missing_site.status_code == 422
    sub["source_site"] = "gov"
    made = await c.post(
        "/api/content/v1/sites/shi/subscriptions", json=sub, headers=content.site_admin("shi")
    )
    assert made.status_code == 201 and made.json()["source_peer"] == "province", made.text

    # Only the platform's own federation (the internal client) may hand content a peer's item.
    for who in (content.admin, content.site_admin("shi")):
        assert (await c.post("/api/content/v1/remote-items", json=_item(), headers=who)).status_code == 403
    first = await c.post("/api/content/v1/remote-items", json=_item(), headers=internal)
    again = await c.post("/api/content/v1/remote-items", json=_item(), headers=internal)
    assert first.json()["tasks_created"] == 1 and again.json()["tasks_created"] == 0
    assert first.json()["remote_item_id"] == again.json()["remote_item_id"]
    other_column = await c.post("/api/content/v1/remote-items", json=_item(78, column_id=6), headers=internal)
    assert other_column.json()["kept"] is False

    async def done() -> dict[str, Any] | None:
        tasks = (await c.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()["items"]
        return tasks[0] if tasks and tasks[0]["status"] == "done" else None

    task = await _wait(done)
    assert task is not None and task["source_publication_id"] is None and task["source_remote_id"]
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(SOURCE_AT)
    assert due == timedelta(hours=12)
    page = await content.deliver("shi", f"/items/{task['target_publication_id']}")
    assert page.status_code == 200, page.text
    meta = page.json()["meta"]
    assert meta["SourcePlatform"] == "province" and meta["SourceSite"] == "gov"
    assert meta["SourceUrl"] == _item()["url"] and meta["SourceResourceId"] == "4242"

    gone = await c.post(
        "/api/content/v1/remote-items/withdrawals",
        json={"peer": "province", "publication_id": 77},
        headers=internal,
    )
    assert gone.status_code == 200 and gone.json()["copies_withdrawn"] == [task["target_publication_id"]]
    assert (await content.deliver("shi", f"/items/{task['target_publication_id']}")).status_code == 404
    replay = await c.post(
        "/api/content/v1/remote-items/withdrawals",
        json={"peer": "province", "publication_id": 77},
        headers=internal,
    )
    assert replay.json() == {"tasks_cancelled": 0, "copies_withdrawn": []}
    # A withdrawn item opens no new task when it is replayed.
    assert (await c.post("/api/content/v1/remote-items", json=_item(), headers=internal)).json()[
        "tasks_created"
    ] == 0
