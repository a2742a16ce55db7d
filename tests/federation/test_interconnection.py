"""Issue 20 through two complete platforms on loopback: a province and a city, each its own
gateway, data folder and identity. Peers registered on both sides; the province's important
policy reaches the city's re-publication queue and is re-published with provenance, its
withdrawal takes the copy down; the city's site status changes reach the province; the
province goes down and comes back, and both converge with nothing lost or duplicated while the
city's lag gauge shows the outage."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.federation.platforms import (
    CONTENT,
    FEDERATION,
    Platform,
    TwoPlatforms,
    check,
    link,
    make_column,
    make_site,
    platform_env,
    publish,
)

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(autouse=True)
def _env(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_env(monkeypatch)


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


async def remote_tasks(city: Platform) -> list[dict[str, Any]]:
    async with city.client() as c:
        tasks = check(await c.get(f"{CONTENT}/syndication/tasks", headers=await city.admin()), 200)
    return [t for t in tasks["items"] if t["source_remote_id"] is not None]


async def site_changes(province: Platform) -> list[dict[str, Any]]:
    async with province.client() as c:
        body = check(
            await c.get(f"{FEDERATION}/peers/city/site-changes?size=100", headers=await province.admin()), 200
        )
    return list(body["items"])


async def lag_gauge(city: Platform) -> float:
    async with city.client() as c:
        text = (await c.get("/metrics")).text
    found = re.search(
        r'jiyue_feed_lag_seconds\{consumer="peer-province",service="federation"\} ([0-9.e+]+)', text
    )
    return float(found.group(1)) if found else -1.0


async def test_province_and_city_interconnect_and_converge_after_an_outage(tmp_path: Path) -> None:
    async with TwoPlatforms.start(tmp_path) as (province, city):
        await make_site(province, "gov", "示范省人民政府", "9900000001")
        policy_column = await make_column(province, "gov", "重要政策")
        await make_site(city, "shi", "示范市人民政府", "9901000001")
        await make_site(city, "jtj", "示范市交通运输局", "bm99010010", kind="department", parent_code="shi")
        repost_column = await make_column(city, "shi", "转载上级政策")
        credentials = await link(province, city)

        # 1. The city's column subscribes to the province's column, as to its own portal.
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

        # 2. Content downward: an important policy becomes a task due 12 h after it went live,
        # and a live copy with its provenance in the page meta; an ordinary item does not.
        await publish(
            province, "gov", policy_column, "关于做好冬季安全生产工作的通知（普通）", important=False
        )
        pid = await publish(
            province, "gov", policy_column, "关于进一步优化营商环境的若干措施", important=True
        )
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

        copy = await eventually(live_copy, "the re-published copy")
        assert copy["title"] == source["title"]
        assert copy["meta"]["SourcePlatform"] == "province"
        assert copy["meta"]["SourceSite"] == "gov"
        assert copy["meta"]["SourceUrl"] == f"{province.url}/sites/gov{CONTENT}/items/{pid}"
        assert copy["meta"]["SourceResourceId"] == str(source["resource_id"])

        # 3. Withdrawal at the source reaches the copy.
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

        # 4. Registry upward: the city's sites and a suspension reach the province.
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
        assert by_code["shi"]["status"] == "online" and by_code["shi"]["domains"] == ["shi.city.gov.cn"]

        # 5. The annual report goes up; the province returns it, then accepts it again sent.
        await _annual_report_round_trip(province, city)

        # The peer's token reads the public feed it was granted, and nothing else.
        await _peer_token_is_confined(province, city, credentials)

        # 6. The province goes down; the city opens a site meanwhile.
        province.stop()
        await make_site(city, "edu", "示范市教育局", "bm99010020", kind="department", parent_code="shi")
        late = await eventually(lambda: _above(lag_gauge(city), 3.0), "the lag gauge to show the outage", 60)
        async with city.client() as c:
            peer = check(await c.get(f"{FEDERATION}/peers/province", headers=await city.admin()), 200)
        assert peer["link"]["late"] is True and peer["link"]["failures"] > 0, peer
        await asyncio.sleep(2)

        # 7. It comes back where it was, publishes again; both sides converge.
        await province.start()
        second = await publish(
            province, "gov", policy_column, "关于加快数字政府建设的实施意见", important=True
        )

        async def converged() -> bool:
            tasks = await remote_tasks(city)
            changes = await site_changes(province)
            return len(tasks) == 2 and any(c["site_code"] == "edu" for c in changes)

        await eventually(converged, "both platforms to converge", 120)
        await asyncio.sleep(2)  # a replay would have landed by now
        tasks = await remote_tasks(city)
        assert len(tasks) == 2 and len({t["source_remote_id"] for t in tasks}) == 2, tasks
        changes = await site_changes(province)
        ids = [c["event_id"] for c in changes]
        assert ids == sorted(set(ids)), "a registry event applied twice or out of order"
        # Every site event the city emitted arrived once: created+online for three sites, the suspension.
        opened = [(c["site_code"], c["action"]) for c in changes]
        for code in ("shi", "jtj", "edu"):
            assert (code, "created") in opened and (code, "status:online") in opened, opened
        assert opened.count(("jtj", "status:suspended")) == 1
        async with city.client() as c:
            peer = check(await c.get(f"{FEDERATION}/peers/province", headers=await city.admin()), 200)
            item = check(await c.get(f"/sites/shi{CONTENT}/items/{tasks[-1]['target_publication_id']}"), 200)
        assert item["meta"]["SourceUrl"].endswith(f"/items/{second}")
        assert peer["link"]["late"] is False and peer["link"]["lag_seconds"] < 3, peer
        assert await lag_gauge(city) < 3 < late


async def _annual_report_round_trip(province: Platform, city: Platform) -> None:
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


async def _above(value: Any, threshold: float) -> float | None:
    got = await value
    return got if got > threshold else None


async def _peer_token_is_confined(province: Platform, city: Platform, credentials: dict[str, Any]) -> None:
    granted = credentials["at_province"]
    async with province.client() as pc, city.client() as cc:
        token = check(
            await pc.post(
                "/api/identity/v1/token",
                data={"grant_type": "client_credentials", "client_id": granted["local_client_id"],
                      "client_secret": granted["local_client_secret"]},
            ),
            200,
        )["access_token"]  # fmt: skip
        peer = {"Authorization": f"Bearer {token}"}
        feed = check(await pc.get(f"{FEDERATION}/peer/changes", headers=peer), 200)
        topics = {e["topic"] for e in feed["items"]}
        assert topics and topics <= {"public.published", "public.withdrawn", "report.reviewed"}, topics
        assert all(e["payload"]["to"] == "city" for e in feed["items"] if e["topic"] == "report.reviewed")
        # Not granted: the province's registry, any service's raw feed, drafts, accounts, peers.
        for path in (
            f"{FEDERATION}/peer/changes?topics=registry.site",
            f"{CONTENT}/changes",
            "/api/identity/v1/changes",
            f"{CONTENT}/sites/gov/publications",
            "/api/identity/v1/users",
            f"{FEDERATION}/peers",
            f"{FEDERATION}/peers/city/sites",
        ):
            resp = await pc.get(path, headers=peer)
            assert resp.status_code in (403, 404), (path, resp.status_code, resp.text)
        # The city's own administrator token is from a foreign issuer at the province.
        foreign = await city.admin()
        assert (await pc.get(f"{FEDERATION}/peer/changes", headers=foreign)).status_code == 401
        assert (await pc.get(f"{FEDERATION}/peers", headers=foreign)).status_code == 401
        # A token for the province's client presented at the city: refused there too.
        assert (await cc.get(f"{FEDERATION}/peer/changes", headers=peer)).status_code == 401
        forged = _forged(token)
        assert (await pc.get(f"{FEDERATION}/peer/changes", headers=forged)).status_code == 401


def _forged(token: str) -> dict[str, str]:
    """The same claims with a widened scope, the signature left as it was."""
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["scope"] = "peer:feed peer:registry internal"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {"Authorization": f"Bearer {head}.{forged}.{sig}"}
