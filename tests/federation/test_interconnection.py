"""Issue 20 through two complete platforms on loopback: a province and a city, each its own
gateway, data folder and identity. Peers registered on both sides; the province's important
policy reaches the city's re-publication queue and is re-published with provenance, its
withdrawal takes the copy down; the city's site status changes reach the province; an annual
report goes up and its review state comes back; the province goes down and comes back, and both
converge with nothing lost or duplicated while the city's lag gauge shows the outage."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.federation import flows
from tests.federation.platforms import (
    CONTENT,
    FEDERATION,
    Platform,
    TwoPlatforms,
    check,
    link,
    make_site,
    platform_env,
    publish,
)

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(autouse=True)
def _env(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_env(monkeypatch)


async def lag_gauge(city: Platform) -> float:
    async with city.client() as c:
        text = (await c.get("/metrics")).text
    found = re.search(
        r'jiyue_feed_lag_seconds\{consumer="peer-province",service="federation"\} ([0-9.e+]+)', text
    )
    return float(found.group(1)) if found else -1.0


async def peer_metric(city: Platform, name: str) -> float:
    async with city.client() as c:
        text = (await c.get("/metrics")).text
    found = re.search(rf'{name}\{{peer="province"\}} ([0-9.e+]+)', text)
    return float(found.group(1)) if found else -1.0


async def lag_alerts(city: Platform) -> list[dict[str, Any]]:
    async with city.client() as c:
        got = check(await c.get("/api/oversight/v1/peer-lag-alerts", headers=await city.admin()), 200)
    return [a for a in got["items"] if a["peer"] == "province"]


async def test_province_and_city_interconnect_and_converge_after_an_outage(tmp_path: Path) -> None:
    async with TwoPlatforms.start(tmp_path) as (province, city):
        policy_column, repost_column = await flows.sites(province, city)
        credentials = await link(province, city)
        # 1. The city's column subscribes to the province's column, as to its own portal.
        await flows.subscribe(city, repost_column, policy_column)
        # 2. Content downward, with provenance; 3. the withdrawal reaches the copy.
        pid, copy = await flows.policy_reaches_city(province, city, policy_column)
        await flows.withdrawal_reaches_copy(province, city, pid, copy)
        # 4. Registry upward: the city's sites and a suspension reach the province.
        await flows.suspension_reaches_province(province, city)
        # 5. The annual report goes up; the province returns it, then accepts it sent again.
        await flows.annual_report_round_trip(province, city)

        # 5b. The province pushes a re-publication task to the city's portal (scope peer:tasks).
        pushed = await flows.pushed_task_reaches_city(
            province, city, credentials, policy_column, repost_column
        )
        # The peer's token reads the public feed it was granted, and nothing else.
        await _peer_token_is_confined(province, city, credentials)

        # 6. The province goes down; the city opens a site meanwhile.
        province.stop()
        await make_site(city, "edu", "示范市教育局", "bm99010020", kind="department", parent_code="shi")
        late = await flows.eventually(
            lambda: _above(lag_gauge(city), 3.0), "the lag gauge to show the outage", 60
        )
        async with city.client() as c:
            peer = check(await c.get(f"{FEDERATION}/peers/province", headers=await city.admin()), 200)
        assert peer["link"]["late"] is True and peer["link"]["failures"] > 0, peer
        # The warning where operators look: an open alert in oversight; the peer gauges served.
        [alert] = await flows.eventually(
            lambda: _open(lag_alerts(city)), "the peer-lag alert in oversight", 30
        )
        assert alert["resolved_at"] is None and alert["lag_seconds"] > 3, alert
        assert await peer_metric(city, "jiyue_peer_feed_lag_seconds") > 3
        assert await peer_metric(city, "jiyue_peer_feed_failures_total") > 0
        await asyncio.sleep(2)

        # 7. It comes back where it was, publishes again; both sides converge.
        await province.start()
        second = await publish(
            province, "gov", policy_column, "关于加快数字政府建设的实施意见", important=True
        )

        async def feed_tasks() -> list[dict[str, Any]]:
            return [t for t in await flows.remote_tasks(city) if t["id"] != pushed]

        async def converged() -> bool:
            tasks = await feed_tasks()
            changes = await flows.site_changes(province)
            return len(tasks) == 2 and any(c["site_code"] == "edu" for c in changes)

        await flows.eventually(converged, "both platforms to converge", 120)
        await asyncio.sleep(2)  # a replay would have landed by now
        tasks = await feed_tasks()
        assert len(tasks) == 2 and len({t["source_remote_id"] for t in tasks}) == 2, tasks
        changes = await flows.site_changes(province)
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
        assert 0 <= await peer_metric(city, "jiyue_peer_feed_lag_seconds") < 3
        # Caught up: the alert is resolved, and was raised once for the whole outage.
        alerts = await flows.eventually(
            lambda: _all_resolved(lag_alerts(city)), "the peer-lag alert resolved", 30
        )
        assert [a["id"] for a in alerts] == [alert["id"]], alerts


async def _open(alerts: Any) -> list[dict[str, Any]]:
    return [a for a in await alerts if a["resolved_at"] is None]


async def _all_resolved(alerts: Any) -> list[dict[str, Any]] | None:
    got = await alerts
    return got if got and all(a["resolved_at"] for a in got) else None


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
        # Pushing re-publication tasks: the city's client at the province lacks peer:tasks (403);
        # the province's client at the city holds it, but not with a forged signature (401).
        push = {"site": "gov", "column_id": 1, "source_site": "shi", "publication_id": 1}
        assert (await pc.post(f"{FEDERATION}/peer/tasks", json=push, headers=peer)).status_code == 403
        at_city = await flows.machine_token(city, credentials["at_city"])
        pushed = _forged(at_city["Authorization"].removeprefix("Bearer "))
        assert (await cc.post(f"{FEDERATION}/peer/tasks", json=push, headers=pushed)).status_code == 401
        from_province = await province.admin()  # a foreign issuer's token at the city
        assert (
            await cc.post(f"{FEDERATION}/peer/tasks", json=push, headers=from_province)
        ).status_code == 401


def _forged(token: str) -> dict[str, str]:
    """The same claims with a widened scope, the signature left as it was."""
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["scope"] = "peer:feed peer:registry internal"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {"Authorization": f"Bearer {head}.{forged}.{sig}"}
