"""Ingest the legal corpus through the whole platform: store every text, then publish them.

.venv/bin/python -m bench.ingest [--quick]

Phase 1 (入库): draft + store of each text through the gateway (metadata validation, HTML
sanitising, machine review, 索引号, outbox) by the portal's editor. Phase 2 (发布): place each
stored version in the portal's 法律法规 column, submit, approve (one review step), publish.
Everything runs in one process on the embedded default (SQLite, local objects, tantivy);
`CONCURRENCY` requests are in flight at once, as several editors would be.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bench.common import CORPUS, Row, latency_row, print_table
from gateway import migrate
from gateway.app import create_gateway
from gateway.demo import identity as demo_identity
from gateway.demo import sites as demo_sites
from gateway.demo.articles import CHECK, _check
from gateway.demo.city import PORTAL
from gateway.demo.corpus import COLUMN, _column, markdown_to_html, metadata, read_corpus
from gateway.demo.seed import Demo
from gateway.settings import GatewaySettings

CONCURRENCY = 4
API = "/api/content/v1"


async def _timed(samples: list[float], coro: Any) -> Any:
    started = time.perf_counter()
    result = await coro
    samples.append(time.perf_counter() - started)
    return result


async def measure(quick: bool) -> list[Row]:
    docs = list(read_corpus(str(CORPUS), 300 if quick else None))
    with tempfile.TemporaryDirectory(prefix="jiyue-ingest-") as tmp:
        # Account set-up is not what is measured: cheap password hashing keeps it short.
        os.environ.update({"JIYUE_ARGON2_TIME_COST": "1", "JIYUE_ARGON2_MEMORY_COST": "1024"})
        settings = GatewaySettings(data_dir=Path(tmp), gateway_access_log=False)
        await migrate.migrate(data_dir=Path(tmp))
        asgi = create_gateway(settings)
        gateway = asgi.gateway
        async with gateway.lifespan():
            transport = httpx.ASGITransport(app=gateway.trusted)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=300) as c:
                demo = Demo(
                    client=c, console=Console(quiet=True), settings=settings, directory=gateway.directory
                )
                await demo_identity.seed(demo)
                await demo_sites.seed(demo)
                accounts = {a["username"]: a for a in demo.accounts}
                editor = demo.auth(await demo.token_for("sfs_editor", accounts["sfs_editor"]["password"]))
                reviewer = demo.auth(
                    await demo.token_for("sfs_reviewer1", accounts["sfs_reviewer1"]["password"])
                )
                column = await _column(demo, await demo.internal_headers())
                gate = asyncio.Semaphore(CONCURRENCY)
                site = PORTAL.code
                store_samples: list[float] = []
                stored: list[tuple[int, int]] = []

                async def store(doc: dict[str, Any]) -> None:
                    body = {"metadata": metadata(doc), "body_html": markdown_to_html(doc["body"]),
                            "scope": "public"}  # fmt: skip
                    async with gate:
                        started = time.perf_counter()
                        made = _check(
                            await c.post(
                                f"/sites/{site}/api/resources/v1/resources", json=body, headers=editor
                            ),
                            201,
                        )
                        done = _check(
                            await c.post(
                                f"/sites/{site}/api/resources/v1/resources/{made['id']}/store", headers=editor
                            ),
                            200,
                        )
                        store_samples.append(time.perf_counter() - started)
                    stored.append((made["id"], done["version"]))

                t0 = time.perf_counter()
                await asyncio.gather(*(store(d) for d in docs))
                store_wall = time.perf_counter() - t0

                publish_samples: list[float] = []

                async def publish(rid: int, version: int) -> None:
                    async with gate:
                        started = time.perf_counter()
                        placed = {"column_id": column, "resource_id": rid, "resource_version": version}
                        pid = _check(
                            await c.post(f"{API}/sites/{site}/publications", json=placed, headers=editor), 201
                        )["id"]
                        for action, who, body in (("submit", editor, {}), ("approve", reviewer, CHECK),
                                                  ("publish", editor, {})):  # fmt: skip
                            _check(
                                await c.post(f"{API}/publications/{pid}/{action}", json=body, headers=who),
                                200,
                            )
                        publish_samples.append(time.perf_counter() - started)

                t1 = time.perf_counter()
                await asyncio.gather(*(publish(r, v) for r, v in stored))
                publish_wall = time.perf_counter() - t1

    command = ".venv/bin/python -m bench.ingest" + (" --quick" if quick else "")
    store_rate = len(store_samples) / store_wall
    return [
        latency_row(
            f"入库 {len(store_samples)} corpus texts through the gateway",
            store_samples,
            throughput=round(store_rate, 1),
            unit="stored/s",
            target="≥ 50 stored/s",
            met=store_rate >= 50,
            command=command,
            note=f"draft + store per text, {CONCURRENCY} in flight; wall {store_wall:.1f}s; column {COLUMN}",
        ),
        latency_row(
            f"publish {len(publish_samples)} stored texts (place, submit, approve, publish)",
            publish_samples,
            throughput=round(len(publish_samples) / publish_wall, 1),
            unit="published/s",
            command=command,
            note=f"wall {publish_wall:.1f}s, {CONCURRENCY} in flight",
        ),
    ]


def run(quick: bool = False) -> list[Row]:
    if not CORPUS.exists():
        return [{"name": "ingest corpus", "n": 0, "note": f"corpus absent at {CORPUS}",
                 "command": ".venv/bin/python -m bench.ingest"}]  # fmt: skip
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    print_table(run(quick="--quick" in sys.argv))
