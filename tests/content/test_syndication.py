"""Re-publication within 12 hours (article 42)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import update

from services.content.models import SyndicationTask
from services.content.service.common import now
from tests.content.conftest import Content


async def _setup(content: Content, *, auto: bool = False) -> tuple[int, int]:
    await content.site("sfs", kind="portal", domains=["www.sfs.gov.cn"])
    await content.site("dcq", kind="portal", parent="sfs", domains=["www.dcq.gov.cn"], id_code="9901010001")
    source = await content.column("sfs", "通知公告")
    target = await content.column("dcq", "通知公告")
    sub = await content.client.post(
        "/api/content/v1/sites/dcq/subscriptions",
        json={"column_id": target, "source_column_id": source, "auto_publish": auto},
        headers=content.site_admin("dcq"),
    )
    assert sub.status_code == 201, sub.text
    return source, target


async def _wait_for(check, seconds: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.02)
    return None


async def test_important_item_creates_subscriber_draft_fast(content_live: Content) -> None:
    content = content_live
    source, target = await _setup(content)
    started = time.monotonic()
    pid = await content.publish_new("sfs", source, "关于做好防汛工作的紧急通知", important=True)

    async def copy() -> dict | None:
        listing = await content.client.get(
            "/api/content/v1/sites/dcq/publications",
            params={"column_id": target},
            headers=content.editor("dcq"),
        )
        items = listing.json()["items"]
        return items[0] if items else None

    draft = await _wait_for(copy)
    assert draft is not None, "no subscriber draft within 5 s"
    assert time.monotonic() - started < 5
    assert draft["status"] == "draft" and draft["source_publication_id"] == pid
    src = (await content.client.get(f"/api/content/v1/publications/{pid}", headers=content.admin)).json()
    assert (draft["resource_id"], draft["resource_version"]) == (src["resource_id"], src["resource_version"])
    tasks = (await content.client.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()[
        "items"
    ]
    assert (
        len(tasks) == 1
        and tasks[0]["status"] == "drafted"
        and tasks[0]["target_publication_id"] == draft["id"]
    )
    assert tasks[0]["overdue"] is False and tasks[0]["due_at"]
    # Withdrawing the source withdraws the copy.
    assert (await content.act(pid, "withdraw", content.editor("sfs"))).status_code == 200
    copy_now = (
        await content.client.get(f"/api/content/v1/publications/{draft['id']}", headers=content.admin)
    ).json()
    assert copy_now["status"] == "withdrawn"


async def test_auto_publish_and_withdraw_cascade(content_live: Content) -> None:
    content = content_live
    source, target = await _setup(content, auto=True)
    pid = await content.publish_new("sfs", source, "关于调整办公时间的通告", important=True)

    async def live() -> dict | None:
        resp = await content.deliver("dcq", f"/columns/{target}/items")
        items = resp.json()["items"] if resp.status_code == 200 else []
        return items[0] if items else None

    copied = await _wait_for(live)
    assert copied is not None and copied["title"] == "关于调整办公时间的通告"
    tasks = (await content.client.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()[
        "items"
    ]
    assert tasks[0]["status"] == "done"
    await content.act(pid, "withdraw", content.editor("sfs"))
    assert (await content.deliver("dcq", f"/items/{copied['id']}")).status_code == 404


async def test_unimportant_items_and_unsubscribed_sites_get_nothing(content: Content) -> None:
    source, _ = await _setup(content)
    await content.site("nhx", kind="portal", parent="sfs", domains=["www.nhx.gov.cn"], id_code="9901210001")
    await content.column("nhx", "通知公告")
    await content.publish_new("sfs", source, "普通信息")
    await content.publish_new("sfs", source, "重要信息", important=True)
    tasks = (await content.client.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()[
        "items"
    ]
    assert [t["site"] for t in tasks] == ["dcq"]  # nhx never subscribed: nothing pushed to it


async def test_only_superior_columns_can_be_subscribed(content: Content) -> None:
    source, target = await _setup(content)
    reverse = await content.client.post(
        "/api/content/v1/sites/sfs/subscriptions",
        json={"column_id": source, "source_column_id": target},
        headers=content.site_admin("sfs"),
    )
    assert reverse.status_code == 422
    by_other = await content.client.post(
        "/api/content/v1/sites/dcq/subscriptions",
        json={"column_id": target, "source_column_id": source},
        headers=content.site_admin("sfs"),
    )
    assert by_other.status_code == 404


async def test_overdue_lists_tasks_past_twelve_hours(content: Content) -> None:
    source, _ = await _setup(content)
    await content.publish_new("sfs", source, "重要通知", important=True)
    assert (
        await content.client.get("/api/content/v1/syndication/tasks?overdue=true", headers=content.admin)
    ).json()["total"] == 0
    async with content.ctx.db.session() as session:
        await session.execute(update(SyndicationTask).values(due_at=now() - timedelta(minutes=1)))
    overdue = (
        await content.client.get("/api/content/v1/syndication/tasks?overdue=true", headers=content.admin)
    ).json()
    assert overdue["total"] == 1 and overdue["items"][0]["overdue"] is True
    mine = await content.client.get(
        "/api/content/v1/syndication/tasks?overdue=true", headers=content.editor("dcq")
    )
    assert mine.json()["total"] == 1
    theirs = await content.client.get(
        "/api/content/v1/syndication/tasks?overdue=true", headers=content.editor("nhx")
    )
    assert theirs.json()["total"] == 0
