"""Shared steps of platform tests that need published items: a site online with columns, and an
item taken through the resource library and the review chain to publication."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

CONTENT = "/api/content/v1"


async def eventually(fetch: Any, ok: Any, seconds: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = await fetch()
        if ok(resp) or time.monotonic() > deadline:
            return resp  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)


async def make_site(content: httpx.AsyncClient, code: str, name: str, columns: list[str]) -> dict[str, int]:
    site = {
        "code": code,
        "name": name,
        "kind": "department",
        "domains": [f"{code}.sfs.gov.cn"],
        "id_code": "bm99010021",
        "host_org": name,
        "icp_no": "辽ICP备00000001号",
    }
    made = await content.post(f"{CONTENT}/sites", json=site)
    assert made.status_code == 201, made.text
    assert (
        await content.post(f"{CONTENT}/sites/{code}/status", json={"status": "online"})
    ).status_code == 200
    ids = {}
    for column in columns:
        resp = await content.post(
            f"{CONTENT}/sites/{code}/columns", json={"name": column, "review_chain": ["reviewer"]}
        )
        assert resp.status_code == 201, resp.text
        ids[column] = int(resp.json()["id"])
    return ids


async def publish(
    c: httpx.AsyncClient,
    site: str,
    people: dict[str, dict[str, str]],
    column_id: int,
    title: str,
    body_html: str | None = None,
    *,
    issuer: str | None = None,
    important: bool = False,
    **meta: Any,
) -> int:
    """Store a resource (extra metadata in `meta`), place it in the column, and let the editor
    and the reviewer take it through submit, approve and publish; returns the publication id."""
    metadata = {
        "title": title,
        "issuer_org": {"code": site, "name": issuer or site},
        "genre": "tongzhi",
        **meta,
    }
    body = {"metadata": metadata, "body_html": body_html or f"<p>{title}。</p>", "scope": "own_site"}
    made = await c.post(f"/sites/{site}/api/resources/v1/resources", json=body, headers=people["editor"])
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    stored = await c.post(f"/sites/{site}/api/resources/v1/resources/{rid}/store", headers=people["editor"])
    assert stored.status_code == 200, stored.text
    placement: dict[str, Any] = {
        "column_id": column_id,
        "resource_id": rid,
        "resource_version": stored.json()["version"],
    }
    if important:
        placement["important"] = True
    placed = await c.post(f"{CONTENT}/sites/{site}/publications", json=placement, headers=people["editor"])
    assert placed.status_code == 201, placed.text
    pid = int(placed.json()["id"])
    check = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
    for action, who, extra in (
        ("submit", "editor", {}),
        ("approve", "reviewer", check),
        ("publish", "editor", {}),
    ):
        done = await c.post(f"{CONTENT}/publications/{pid}/{action}", json=extra, headers=people[who])
        assert done.status_code == 200, (action, done.text)
    return pid
