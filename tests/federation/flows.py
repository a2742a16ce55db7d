"""The interconnection flows of issue 20 as steps on a province and a city, whatever runs them
(two in-process platforms on loopback, or a city in split mode on the real servers)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from tests.federation.platforms import CONTENT, FEDERATION, Side, check, make_column, make_site, publish


async def eventually(probe: Any, what: str, seconds: float = 60.0) -> Any:
    """Poll `probe()` until it answers something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.3)


async def remote_tasks(city: Side) -> list[dict[str, Any]]:
    async with city.client() as c:
        tasks = check(await c.get(f"{CONTENT}/syndication/tasks", headers=await city.admin()), 200)
    return [t for t in tasks["items"] if t["source_remote_id"] is not None]


async def site_changes(province: Side) -> list[dict[str, Any]]:
    async with province.client() as c:
        body = check(
            await c.get(f"{FEDERATION}/peers/city/site-changes?size=100", headers=await province.admin()), 200
        )
    return list(body["items"])


async def sites(province: Side, city: Side) -> tuple[int, int]:
    """The province's policy column; the city's portal, a department and the column that will
    subscribe to the province's. Answers (policy column, re-publication column)."""
    await make_site(province, "gov", "示范省人民政府", "9900000001")
    policy_column = await make_column(province, "gov", "重要政策")
    await make_site(city, "shi", "示范市人民政府", "9901000001")
    await make_site(city, "jtj", "示范市交通运输局", "bm99010010", kind="department", parent_code="shi")
    repost_column = await make_column(city, "shi", "转载上级政策")
    return policy_column, repost_column


async def subscribe(city: Side, repost_column: int, policy_column: int) -> None:
    async with city.client() as c:
        check(
            await c.post(
                f"{CONTENT}/sites/shi/subscriptions",
                json={"column_id": repost_column, "source_column_id": policy_column,
                      "source_peer": "province", "source_site": "gov", "auto_publish": True},
                headers=await city.admin(),
            ),
            201,
        )  # fmt: skip


async def policy_reaches_city(province: Side, city: Side, policy_column: int) -> tuple[int, dict[str, Any]]:
    """An important policy becomes a task due 12 h after it went live and a live copy with its
    provenance in the page meta; an ordinary item does not. Answers (source id, copy)."""
    await publish(province, "gov", policy_column, "关于做好冬季安全生产工作的通知（普通）", important=False)
    pid = await publish(province, "gov", policy_column, "关于进一步优化营商环境的若干措施", important=True)
    [task] = await eventually(lambda: remote_tasks(city), "the policy's task on the city")
    async with province.client() as pc:
        source = check(await pc.get(f"/sites/gov{CONTENT}/items/{pid}"), 200)
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(source["published_at"])
    assert abs(due - timedelta(hours=12)) < timedelta(seconds=1), task

    async def live_copy() -> dict[str, Any] | None:
        [t] = await remote_tasks(city)
        if t["status"] != "done":
            return None
        async with city.client() as c:
            resp = await c.get(f"/sites/shi{CONTENT}/items/{t['target_publication_id']}")
        return resp.json() if resp.status_code == 200 else None

    copy: dict[str, Any] = await eventually(live_copy, "the re-published copy")
    assert copy["title"] == source["title"]
    assert copy["meta"]["SourcePlatform"] == "province"
    assert copy["meta"]["SourceSite"] == "gov"
    assert copy["meta"]["SourceUrl"] == f"{province.url}/sites/gov{CONTENT}/items/{pid}"
    assert copy["meta"]["SourceResourceId"] == str(source["resource_id"])
    return pid, copy


async def withdrawal_reaches_copy(province: Side, city: Side, pid: int, copy: dict[str, Any]) -> None:
    async with province.client() as pc:
        check(
            await pc.post(
                f"{CONTENT}/publications/{pid}/withdraw",
                json={"opinion": "政策调整"},
                headers=await province.person("gov_editor", [("editor", "gov")]),
            ),
            200,
        )

    async def copy_gone() -> bool:
        async with city.client() as c:
            resp = await c.get(f"/sites/shi{CONTENT}/items/{copy['id']}")
        return resp.status_code == 404

    await eventually(copy_gone, "the copy withdrawn with its source")


async def suspension_reaches_province(province: Side, city: Side) -> None:
    """The city's sites (with 标识码 and domains) and a suspension, seen by the province."""
    resume = (datetime.now().astimezone() + timedelta(days=7)).isoformat()
    async with city.client() as c:
        check(
            await c.post(
                f"{CONTENT}/sites/jtj/status",
                json={"status": "suspended", "resume_at": resume, "reason": "系统升级改造"},
                headers=await city.admin(),
            ),
            200,
        )

    async def suspension_seen() -> bool:
        return any(
            c["site_code"] == "jtj" and c["status"] == "suspended" for c in await site_changes(province)
        )

    await eventually(suspension_seen, "the suspension at the province")
    async with province.client() as pc:
        sites = check(await pc.get(f"{FEDERATION}/peers/city/sites", headers=await province.admin()), 200)
    by_code = {s["code"]: s for s in sites["items"]}
    assert by_code["jtj"]["status"] == "suspended" and by_code["jtj"]["id_code"] == "bm99010010"
    assert by_code["shi"]["status"] == "online" and by_code["shi"]["domains"] == [f"shi.{city.name}.gov.cn"]


async def annual_report_round_trip(province: Side, city: Side) -> None:
    year = datetime.now().year
    async with province.client() as pc, city.client() as cc:
        sent = check(
            await cc.post(f"{FEDERATION}/reports", json={"peer": "province", "site": "shi", "year": year},
                          headers=await city.admin()),
            201,
        )  # fmt: skip
        assert sent["state"] == "submitted"

        async def at_province(state: str) -> dict[str, Any] | None:
            got = check(await pc.get(f"{FEDERATION}/peers/city/reports", headers=await province.admin()), 200)
            return next((r for r in got["items"] if r["site"] == "shi" and r["state"] == state), None)

        async def at_city(state: str) -> dict[str, Any] | None:
            got = check(await cc.get(f"{FEDERATION}/reports", headers=await city.admin()), 200)
            return next((r for r in got["items"] if r["id"] == sent["id"] and r["state"] == state), None)

        received = await eventually(lambda: at_province("submitted"), "the report at the province")
        review = f"{FEDERATION}/peers/city/reports/{received['id']}/review"
        returned = {"decision": "returned", "opinion": "请补充政务新媒体情况"}
        check(await pc.post(review, json=returned, headers=await province.admin()), 200)
        back = await eventually(lambda: at_city("returned"), "the review state back at the city")
        assert back["opinion"] == "请补充政务新媒体情况"
        again = {"peer": "province", "site": "shi", "year": year}
        check(await cc.post(f"{FEDERATION}/reports", json=again, headers=await city.admin()), 201)
        await eventually(lambda: at_province("submitted"), "the report sent again")
        check(await pc.post(review, json={"decision": "accepted"}, headers=await province.admin()), 200)
        await eventually(lambda: at_city("accepted"), "the acceptance back at the city")
        got = check(await pc.get(f"{FEDERATION}/peers/city/reports", headers=await province.admin()), 200)
        assert got["total"] == 1, got  # one report, sent twice, never duplicated


async def machine_token(at: Side, granted: dict[str, Any]) -> dict[str, str]:
    """A token of the client `at` issued for its peer (what the peer's federation presents)."""
    async with at.client() as c:
        form = {"grant_type": "client_credentials", "client_id": granted["local_client_id"],
                "client_secret": granted["local_client_secret"]}  # fmt: skip
        token = check(await c.post("/api/identity/v1/token", data=form), 200)["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def pushed_task_reaches_city(
    province: Side, city: Side, credentials: dict[str, Any], policy_column: int, repost_column: int
) -> int:
    """The province pushes one of its public items (not important: the feed opens no task for
    it) to the city's portal: one task, due 12 h after the source's publication, whatever the
    repeats; the city's editors publish the copy and its page meta names the source. Answers
    the task's id."""
    pid = await publish(
        province, "gov", policy_column, "关于开展政务公开标准化规范化工作的通知", important=False
    )
    peer = await machine_token(city, credentials["at_city"])
    push = {"site": "shi", "column_id": repost_column, "source_site": "gov", "publication_id": pid}
    async with city.client() as c:
        first = check(await c.post(f"{FEDERATION}/peer/tasks", json=push, headers=peer), 200)
        again = check(await c.post(f"{FEDERATION}/peer/tasks", json=push, headers=peer), 200)
        assert first["created"] is True and again["created"] is False, (first, again)
        assert again["task_id"] == first["task_id"]
        # An unknown site, an item the province does not publish: refused, nothing queued.
        bad = await c.post(f"{FEDERATION}/peer/tasks", json={**push, "site": "nosuch"}, headers=peer)
        assert bad.status_code == 404, bad.text
        gone = await c.post(f"{FEDERATION}/peer/tasks", json={**push, "publication_id": 999999}, headers=peer)
        assert gone.status_code == 404, gone.text
    pushed = [t for t in await remote_tasks(city) if t["id"] == first["task_id"]]
    assert len(pushed) == 1 and pushed[0]["site"] == "shi" and pushed[0]["column_id"] == repost_column
    assert pushed[0]["subscription_id"] == 0 and not pushed[0]["auto_publish"], pushed
    async with province.client() as pc:
        source = check(await pc.get(f"/sites/gov{CONTENT}/items/{pid}"), 200)
    due = datetime.fromisoformat(pushed[0]["due_at"]) - datetime.fromisoformat(source["published_at"])
    assert abs(due - timedelta(hours=12)) < timedelta(seconds=1), pushed

    async def draft() -> int | None:
        [t] = [t for t in await remote_tasks(city) if t["id"] == first["task_id"]]
        return t["target_publication_id"] if t["status"] in ("drafted", "done") else None

    copy_id = await eventually(draft, "the pushed task's draft copy")
    editor = await city.person("shi_editor", [("editor", "shi")])
    reviewer = await city.person("shi_reviewer", [("reviewer", "shi")])
    ok = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
    async with city.client() as c:
        check(
            await c.post(
                f"{CONTENT}/publications/{copy_id}/submit", json={"opinion": "转载"}, headers=editor
            ),
            200,
        )
        check(await c.post(f"{CONTENT}/publications/{copy_id}/approve", json=ok, headers=reviewer), 200)
        check(await c.post(f"{CONTENT}/publications/{copy_id}/publish", json={}, headers=editor), 200)
        copy = check(await c.get(f"/sites/shi{CONTENT}/items/{copy_id}"), 200)
    assert copy["title"] == source["title"]
    assert copy["meta"]["SourcePlatform"] == "province" and copy["meta"]["SourceSite"] == "gov"
    assert copy["meta"]["SourceUrl"] == f"{province.url}/sites/gov{CONTENT}/items/{pid}"
    return int(first["task_id"])
