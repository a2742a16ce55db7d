"""A platform with a site and columns to import into, and bundles written by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.identity.helpers import bearer, internal_token
from tests.support.platform import Platform

SITE = "jtj"
DOMAIN = "jtj.sfs.gov.cn"
# (code, name, review chain) under a parent 信息公开 (code xxgk)
COLUMNS = (("tzgg", "通知公告", ["reviewer"]), ("zcwj", "政策文件", ["reviewer", "reviewer"]), ("zcjd", "政策解读", ["reviewer"]))


@dataclass
class Target:
    platform: Platform
    admin: dict[str, str]
    columns: dict[str, int]

    def client(self) -> httpx.AsyncClient:
        """A client as the importer's operator: the gateway's trusted entry, internal rights."""
        transport = httpx.ASGITransport(app=self.platform.gateway.trusted)
        return httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=60, headers=self.admin)


async def eventually(fetch: Any, ok: Any, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = await fetch()
        if ok(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def prepare_site(platform: Platform, *, code: str = SITE, domain: str = DOMAIN) -> Target:
    c = platform.client
    admin = bearer(await internal_token(c, platform.settings))
    site = {"code": code, "name": "示范市交通运输局", "kind": "department", "domains": [domain], "id_code": "bm99010010"}
    assert (await c.post("/api/content/v1/sites", json=site, headers=admin)).status_code == 201
    assert (await c.post(f"/api/content/v1/sites/{code}/status", json={"status": "online"}, headers=admin)).status_code == 200
    known = await eventually(lambda: c.get(f"/sites/{code}/api/content/v1/site"), lambda r: r.status_code == 200)
    assert known.status_code == 200, known.text
    made = await c.post(
        f"/api/content/v1/sites/{code}/columns", json={"name": "信息公开", "code": "xxgk"}, headers=admin
    )
    assert made.status_code == 201, made.text
    columns = {"xxgk": made.json()["id"]}
    for col_code, name, chain in COLUMNS:
        body = {"name": name, "code": col_code, "parent_id": columns["xxgk"], "review_chain": chain}
        made = await c.post(f"/api/content/v1/sites/{code}/columns", json=body, headers=admin)
        assert made.status_code == 201, made.text
        columns[col_code] = made.json()["id"]
    return Target(platform, admin, columns)


@contextlib.asynccontextmanager
async def platform_with_site(tmp_path: Path) -> AsyncIterator[Target]:
    async with Platform.start(tmp_path) as platform:
        yield await prepare_site(platform)


def item(n: int, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_key": f"tzgg/{n:04d}",
        "column": "xxgk/tzgg",
        "title": f"关于第{n}期道路养护施工的通告",
        "body_html": f"<p>第{n}期道路养护施工期间，请过往车辆减速慢行，注意安全。</p>",
        "doc_number": None,
        "issuer": "示范市交通运输局",
        "published_at": f"2019-03-{(n % 28) + 1:02d}",
        "original_url": f"http://old.jtj.example.gov.cn/tzgg/201903/t2019_{n}.html",
    }
    base.update(over)
    return base


def write_bundle(folder: Path, lines: list[Any], files: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "items.jsonl").open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n")
    for name, data in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder
