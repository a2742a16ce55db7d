"""Split mode for real: every service and the gateway its own process, on PostgreSQL,
Elasticsearch and MinIO. One scenario signs in, stores, reviews, publishes, searches and
reads through host routing; then the search process is killed while publishing goes on,
and on restart its index catches up with nothing lost. Two search replicas share one feed
cursor through a lease: only the holder processes, and the other takes over when it dies.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.identity.helpers import FAST_ARGON2
from tests.support import real
from tests.support.split import JIYUE, ROOT, SplitPlatform, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SITE = {
    "code": "jtj",
    "name": "示范市交通运输局",
    "kind": "department",
    "domains": ["jtj.sfs.gov.cn"],
    "id_code": "bm99010010",
}
CHECK = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": "不涉密"}}


async def eventually(
    fetch: Callable[[], Awaitable[httpx.Response]],
    ok: Callable[[httpx.Response], bool],
    seconds: float = 30.0,
) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            resp = await fetch()
            if ok(resp) or time.monotonic() > deadline:
                return resp
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


class Newsroom:
    """An editor and two reviewers of one site, publishing through the gateway."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, dict[str, str]], column: int) -> None:
        self.c = client
        self.tokens = tokens
        self.column = column

    async def publish(self, title: str) -> int:
        c, t = self.c, self.tokens
        body = {
            "metadata": {
                "title": title,
                "issuer_org": {"code": "jtj", "name": SITE["name"]},
                "genre": "tongzhi",
                "keywords": ["交通"],
            },
            "body_html": f"<p>{title}。请广大市民合理安排出行，注意交通安全。</p>",
            "scope": "own_site",
        }
        made = await c.post("/sites/jtj/api/resources/v1/resources", json=body, headers=t["editor"])
        assert made.status_code == 201, made.text
        rid = made.json()["id"]
        stored = await c.post(f"/sites/jtj/api/resources/v1/resources/{rid}/store", headers=t["editor"])
        assert stored.status_code == 200, stored.text
        placed = await c.post(
            "/api/content/v1/sites/jtj/publications",
            headers=t["editor"],
            json={"column_id": self.column, "resource_id": rid, "resource_version": stored.json()["version"]},
        )
        assert placed.status_code == 201, placed.text
        pid = int(placed.json()["id"])
        for action, who, body in (
            ("submit", "editor", {}),
            ("approve", "reviewer1", CHECK),
            ("approve", "reviewer2", CHECK),
            ("publish", "editor", {}),
        ):
            resp = await c.post(f"/api/content/v1/publications/{pid}/{action}", json=body, headers=t[who])
            assert resp.status_code == 200, f"{action}: {resp.text}"
        return pid


@pytest.fixture
async def split(tmp_path: Path) -> AsyncIterator[SplitPlatform]:
    es_url = real.elasticsearch_url()
    s3 = real.s3_settings()
    db_url = await real.fresh_postgres_database()
    platform = SplitPlatform.configure(
        tmp_path,
        database_url=db_url,
        search_backend="elasticsearch",
        elasticsearch_url=es_url,
        search_index_prefix=f"split{uuid.uuid4().hex[:8]}",
        object_store="s3",
        s3_endpoint=s3["endpoint"],
        s3_access_key=s3["access_key"],
        s3_secret_key=s3["secret_key"],
        s3_bucket=f"split-{uuid.uuid4().hex[:8]}",
        feed_lease_seconds="3",
        **{k.removeprefix("JIYUE_").lower(): v for k, v in FAST_ARGON2.items()},
    )
    try:
        platform.start_all()
        yield platform
    except Exception:
        for name in platform.procs:
            print(f"--- {name} log ---\n{platform.log_tail(name)}")
        raise
    finally:
        platform.stop_all()


async def newsroom(c: httpx.AsyncClient, split: SplitPlatform) -> Newsroom:
    # The internal machine client is refused at the public gateway: ask identity on its own port.
    async with httpx.AsyncClient(base_url=split.url("identity"), timeout=30) as direct:
        token = await direct.post(
            "/api/identity/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "jiyue-internal",
                "client_secret": split.env["JIYUE_INTERNAL_CLIENT_SECRET"],
                "scope": "changes:read internal",
            },
        )
    assert token.status_code == 200, token.text
    admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await c.post("/api/content/v1/sites", json=SITE, headers=admin)).status_code == 201
    online = await c.post("/api/content/v1/sites/jtj/status", json={"status": "online"}, headers=admin)
    assert online.status_code == 200, online.text
    known = await eventually(lambda: c.get("/sites/jtj/api/content/v1/site"), lambda r: r.status_code == 200)
    assert known.status_code == 200, f"the gateway never learnt of the new site: {known.text}"
    column = await c.post(
        "/api/content/v1/sites/jtj/columns",
        headers=admin,
        json={"name": "通知公告", "review_chain": ["reviewer", "reviewer"]},
    )
    assert column.status_code == 201, column.text
    tokens: dict[str, dict[str, str]] = {}
    for name, role in (("editor", "editor"), ("reviewer1", "reviewer"), ("reviewer2", "reviewer")):
        password = f"Split-{name}-2026"
        user = await c.post(
            "/api/identity/v1/users",
            headers=admin,
            json={"username": f"jtj_{name}", "display_name": name, "password": password},
        )
        assert user.status_code == 201, user.text
        bound = await c.post(
            f"/api/identity/v1/users/{user.json()['id']}/roles",
            headers=admin,
            json={"role": role, "site": "jtj"},
        )
        assert bound.status_code == 201, bound.text
        signed = await c.post(
            "/api/identity/v1/token",
            data={
                "grant_type": "password",
                "client_id": "jiyue-console",
                "username": f"jtj_{name}",
                "password": password,
            },
        )
        assert signed.status_code == 200, signed.text
        tokens[name] = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    return Newsroom(c, tokens, int(column.json()["id"]))


async def indexed_ids(c: httpx.AsyncClient, query: str) -> set[int]:
    resp = await c.get("/sites/jtj/api/search/v1/search", params={"q": query, "size": 100})
    assert resp.status_code == 200, resp.text
    return {int(item["id"]) for item in resp.json()["items"]}


async def test_publish_search_read_then_search_killed_catches_up(split: SplitPlatform) -> None:
    async with httpx.AsyncClient(base_url=split.gateway_url, timeout=30) as c:
        room = await newsroom(c, split)
        first = await room.publish("关于滨江路封闭施工的通告")

        # Read through host routing and find it by search.
        item = await eventually(
            lambda: c.get(f"/api/content/v1/items/{first}", headers={"Host": "jtj.sfs.gov.cn"}),
            lambda r: r.status_code == 200,
        )
        assert item.status_code == 200 and item.json()["id"] == first, item.text
        found = await eventually(
            lambda: c.get("/sites/jtj/api/search/v1/search", params={"q": "滨江路"}),
            lambda r: r.status_code == 200 and r.json().get("total", 0) >= 1,
        )
        assert [i["id"] for i in found.json()["items"]] == [first], found.text

        # Kill search; publishing goes on; its routes answer 503 meanwhile.
        split.kill("search")
        # (a query not answered before, so no cache layer can answer it for the dead service)
        down = await c.get("/sites/jtj/api/search/v1/search", params={"q": "封闭施工"})
        assert down.status_code == 503, down.text
        published = {first}
        for i in range(6):
            published.add(await room.publish(f"滨江路第{i + 1}期施工交通组织方案"))

        split.start("search")
        caught_up = await eventually(
            lambda: c.get("/sites/jtj/api/search/v1/search", params={"q": "滨江路", "size": 100}),
            lambda r: r.status_code == 200 and r.json().get("total") == len(published),
            seconds=60,
        )
        assert await indexed_ids(c, "滨江路") == published, caught_up.text


async def test_two_search_replicas_share_the_feed_through_a_lease(split: SplitPlatform) -> None:
    split.ports["search2"] = __import__("tests.support.split", fromlist=["free_port"]).free_port()
    async with httpx.AsyncClient(base_url=split.gateway_url, timeout=30) as c:
        room = await newsroom(c, split)
        await room.publish("滨江路施工首期通告")
        await eventually(
            lambda: c.get("/sites/jtj/api/search/v1/search", params={"q": "滨江路"}),
            lambda r: r.json().get("total", 0) >= 1,
        )
        # A second replica of the search service on the same database, and the gateway
        # restarted to route search to both replicas.
        split_start_replica(split)
        backends = json.loads(split.env["JIYUE_GATEWAY_BACKENDS"])
        backends["search"] = f"{split.url('search')},{split.url('search2')}"
        split.env["JIYUE_GATEWAY_BACKENDS"] = json.dumps(backends)
        split.kill("gateway")
        split.start("gateway")

        async def holders() -> dict[str, Any]:
            out = {}
            async with httpx.AsyncClient(timeout=5) as probe:
                for name in ("search", "search2"):
                    ready = (await probe.get(f"{split.url(name)}/readyz")).json()
                    out[name] = ready["checks"]["feed:search-publications"]
            return out

        status = await holders()
        holder = status["search"]["holder"]
        assert holder and status["search2"]["holder"] == holder  # one lease, seen by both
        processed_before = status["search"]["processed"]

        # Only one replica processes: the number of applied events equals the events published.
        pid = await room.publish("滨江路施工二期通告")
        await eventually(
            lambda: c.get("/sites/jtj/api/search/v1/search", params={"q": "二期"}),
            lambda r: r.json().get("total", 0) >= 1,
        )
        after = await holders()
        assert (
            after["search"]["processed"] - processed_before
            == after["search"]["position"] - status["search"]["position"]
        )

        # Kill whichever replica holds the lease; the other takes over within the lease time.
        holder_name = "search" if (await asyncio.to_thread(_owned_by, split, "search", after)) else "search2"
        survivor = "search2" if holder_name == "search" else "search"
        split.kill(holder_name)
        started = time.monotonic()
        pid = await room.publish("滨江路施工三期通告")
        found = await eventually(
            lambda: c.get("/sites/jtj/api/search/v1/search", params={"q": "三期"}),
            lambda r: r.status_code == 200 and r.json().get("total", 0) >= 1,
            seconds=30,
        )
        took = time.monotonic() - started
        assert found.json()["items"][0]["id"] == pid, found.text
        # Through the gateway both before and after the kill: the dead replica is routed around.
        answers = [await c.get("/sites/jtj/api/search/v1/search", params={"q": "滨江路"}) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 6
        assert survivor in split.procs
        assert took < 3 + 10, f"takeover took {took:.1f}s with a 3 s lease"


def split_start_replica(split: SplitPlatform) -> None:
    """Start `search2`: the search service again, on its own port, same database and index."""
    port = split.ports["search2"]
    log = split.data_dir / "search2.log"
    split.logs["search2"] = log
    proc = subprocess.Popen(
        [JIYUE, "serve", "search", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        env=split.env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    split.procs["search2"] = proc
    wait_http(f"http://127.0.0.1:{port}/healthz", 60, proc)


def _owned_by(split: SplitPlatform, name: str, status: dict[str, Any]) -> bool:
    """The lease owner string carries host:pid; match it against the replica's process id."""
    holder = status[name]["holder"] or ""
    return f":{split.procs[name].pid}:" in holder
