"""Re-publication latency (article 42): source publish → subscriber drafts exist.

Runs the embedded default in-process (gateway + every service + workers, SQLite in a temporary
folder), sets up a city portal with three district portals whose 通知公告 subscribe to the
portal's, then repeatedly publishes an important notice on the portal and measures the time
from the publish answer until every subscriber's draft can be read back. Target: ≤ 5 s each.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Row, latency_row, print_table
from gateway import migrate
from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from services.kernel.runtime import internal_secret

DISTRICTS = ("dcq", "xcq", "nhx")


async def _json(resp: httpx.Response, status: int = 200) -> Any:
    if resp.status_code != status:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url} → {resp.status_code}: {resp.text[:300]}"
        )
    return resp.json()


async def _token(c: httpx.AsyncClient, **form: str) -> dict[str, str]:
    body = await _json(await c.post("/api/identity/v1/token", data=form))
    return {"Authorization": f"Bearer {body['access_token']}"}


async def _measure(data_dir: Path, rounds: int) -> list[float]:
    settings = GatewaySettings(data_dir=data_dir, gateway_rate_limits=False)
    await migrate.migrate(data_dir=data_dir)
    app = create_gateway(settings)
    async with app.gateway.lifespan():
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=60) as c:
            admin = await _token(
                c,
                grant_type="client_credentials",
                client_id="jiyue-internal",
                client_secret=internal_secret(settings),
                scope="changes:read internal",
            )
            api = "/api/content/v1"
            site = {
                "code": "sfs",
                "name": "示范市人民政府",
                "kind": "portal",
                "id_code": "9901000001",
                "domains": ["www.sfs.gov.cn"],
            }
            await _json(await c.post(f"{api}/sites", json=site, headers=admin), 201)
            await _json(await c.post(f"{api}/sites/sfs/status", json={"status": "online"}, headers=admin))
            chain = {"name": "通知公告", "review_chain": ["reviewer", "reviewer"]}
            source = (await _json(await c.post(f"{api}/sites/sfs/columns", json=chain, headers=admin), 201))[
                "id"
            ]
            for i, code in enumerate(DISTRICTS, start=1):
                d = {
                    "code": code,
                    "name": f"区县{i}",
                    "kind": "portal",
                    "parent_code": "sfs",
                    "id_code": f"99010{i}0001",
                    "domains": [f"{code}.sfs.gov.cn"],
                }
                await _json(await c.post(f"{api}/sites", json=d, headers=admin), 201)
                await _json(
                    await c.post(f"{api}/sites/{code}/status", json={"status": "online"}, headers=admin)
                )
                target = (
                    await _json(await c.post(f"{api}/sites/{code}/columns", json=chain, headers=admin), 201)
                )["id"]
                sub = {"column_id": target, "source_column_id": source}
                await _json(await c.post(f"{api}/sites/{code}/subscriptions", json=sub, headers=admin), 201)
            people: dict[str, dict[str, str]] = {}
            for name, role in (("editor", "editor"), ("r1", "reviewer"), ("r2", "reviewer")):
                password = "Aa1-" + secrets.token_urlsafe(12)
                user = await _json(
                    await c.post(
                        "/api/identity/v1/users",
                        json={"username": f"sfs_{name}", "display_name": name, "password": password},
                        headers=admin,
                    ),
                    201,
                )
                await _json(
                    await c.post(
                        f"/api/identity/v1/users/{user['id']}/roles",
                        json={"role": role, "site": "sfs"},
                        headers=admin,
                    ),
                    201,
                )
                people[name] = await _token(
                    c,
                    grant_type="password",
                    client_id="jiyue-console",
                    username=f"sfs_{name}",
                    password=password,
                )
            deadline = time.monotonic() + 10
            while (await c.get("/sites/sfs/api/content/v1/site")).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the gateway never picked up the new sites")
                await asyncio.sleep(0.1)

            check = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
            samples: list[float] = []
            for n in range(rounds + 1):  # the first round warms up and is not counted
                title = f"关于做好第{n + 1}轮防汛工作的紧急通知"
                meta = {
                    "title": title,
                    "issuer_org": {"code": "sfs", "name": "示范市人民政府办公室"},
                    "genre": "tongzhi",
                }
                res = await _json(
                    await c.post(
                        "/sites/sfs/api/resources/v1/resources",
                        json={
                            "metadata": meta,
                            "body_html": f"<p>{title}，请各区县认真落实。</p>",
                            "scope": "platform",
                        },
                        headers=people["editor"],
                    ),
                    201,
                )
                stored = await _json(
                    await c.post(
                        f"/sites/sfs/api/resources/v1/resources/{res['id']}/store", headers=people["editor"]
                    )
                )
                placed = {
                    "column_id": source,
                    "resource_id": res["id"],
                    "resource_version": stored["version"],
                    "important": True,
                }
                pid = (
                    await _json(
                        await c.post(f"{api}/sites/sfs/publications", json=placed, headers=people["editor"]),
                        201,
                    )
                )["id"]
                await _json(
                    await c.post(f"{api}/publications/{pid}/submit", json={}, headers=people["editor"])
                )
                await _json(
                    await c.post(f"{api}/publications/{pid}/approve", json=check, headers=people["r1"])
                )
                await _json(
                    await c.post(f"{api}/publications/{pid}/approve", json=check, headers=people["r2"])
                )
                await _json(
                    await c.post(f"{api}/publications/{pid}/publish", json={}, headers=people["editor"])
                )
                started = time.perf_counter()
                waiting = set(DISTRICTS)
                while waiting:
                    for code in list(waiting):
                        page = await _json(
                            await c.get(
                                f"{api}/sites/{code}/publications", params={"size": 100}, headers=admin
                            )
                        )
                        if any(p["source_publication_id"] == pid for p in page["items"]):
                            waiting.discard(code)
                    if waiting:
                        if time.perf_counter() - started > 30:
                            raise RuntimeError(f"no draft on {sorted(waiting)} after 30 s")
                        await asyncio.sleep(0.005)
                if n:
                    samples.append(time.perf_counter() - started)
            return samples


def run(quick: bool = False) -> list[Row]:
    rounds = 5 if quick else 20
    os.environ.setdefault("JIYUE_ARGON2_TIME_COST", "1")
    os.environ.setdefault("JIYUE_LOG_LEVEL", "WARNING")
    os.environ.setdefault("JIYUE_ARGON2_MEMORY_COST", "1024")
    with tempfile.TemporaryDirectory(prefix="jiyue-bench-republish-") as tmp:
        samples = asyncio.run(_measure(Path(tmp), rounds))
    row = latency_row(
        "republish: source publish → drafts on 3 subscribers",
        samples,
        target="median ≤ 5000 ms",
        command="python -m bench.republish" + (" --quick" if quick else ""),
        note="embedded default in-process (gateway, all services, SQLite); worker woken on commit",
    )
    row["met"] = bool(samples) and row["median_ms"] <= 5000
    return [row]


if __name__ == "__main__":
    import sys

    print_table(run(quick="--quick" in sys.argv))
