"""Demo step: every site of 示范市 online, the standard columns, and re-publication subscriptions."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.demo.city import DISTRICTS, PORTAL, SITES, STANDARD_COLUMNS, DemoSite

API = "/api/content/v1"
LINKS = {"bsfw": "https://zwfw.sfs.gov.cn/", "hdjl": "/interaction"}


def _check(resp: httpx.Response, *ok: int) -> Any:
    if resp.status_code not in ok:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url.path} → {resp.status_code}: {resp.text[:300]}"
        )
    return resp.json() if resp.content else None


async def _ensure_site(demo: Any, headers: dict[str, str], site: DemoSite) -> bool:
    c = demo.client
    found = await c.get(f"{API}/sites/{site.code}", headers=headers)
    created = False
    if found.status_code == 404:
        body = {
            "code": site.code,
            "name": site.name,
            "kind": site.kind,
            "parent_code": site.parent,
            "host_org": site.org_name,
            "operator_org": PORTAL.org_name if site.kind == "department" else site.org_name,
            "domains": list(site.domains),
            "id_code": site.id_code,
            "icp_no": f"示ICP备{20260000 + SITES.index(site)}号",
            "psb_no": f"示公网安备 9901000200{SITES.index(site):04d}号",
            "responsible_person": f"{site.org_name}办公室主任",
        }
        found = await c.post(f"{API}/sites", json=body, headers=headers)
        _check(found, 201)
        created = True
    if _check(found, 200, 201)["status"] == "applying":
        _check(
            await c.post(f"{API}/sites/{site.code}/status", json={"status": "online"}, headers=headers), 200
        )
    return created


async def _ensure_columns(demo: Any, headers: dict[str, str], site: DemoSite) -> dict[str, int]:
    c = demo.client
    existing = {
        col["name"]: col["id"]
        for col in _check(await c.get(f"{API}/sites/{site.code}/columns", headers=headers), 200)["items"]
    }
    for order, (name, kind, code) in enumerate(STANDARD_COLUMNS):
        if name in existing:
            continue
        body: dict[str, Any] = {
            "name": name,
            "code": code,
            "kind": kind,
            "sort_order": order,
            "description": f"{site.name}{name}",
            "keywords": [name, site.name],
            "review_chain": ["reviewer", "reviewer"] if kind == "list" else ["reviewer"],
            "update_interval_days": 14 if kind == "list" else None,
        }
        if kind == "link":
            body["link_url"] = LINKS.get(code, "/")
        made = _check(await c.post(f"{API}/sites/{site.code}/columns", json=body, headers=headers), 201)
        existing[name] = made["id"]
    return existing


async def seed(demo: Any) -> None:
    headers = await demo.internal_headers()
    columns: dict[str, dict[str, int]] = demo.state.setdefault("columns", {})
    created = 0
    with demo.console.status("站点与栏目…") as status:
        for site in SITES:
            status.update(f"站点与栏目：{site.name}")
            created += await _ensure_site(demo, headers, site)
            columns[site.code] = await _ensure_columns(demo, headers, site)
        source = columns[PORTAL.code]["通知公告"]
        for district in DISTRICTS:
            subs = _check(
                await demo.client.get(f"{API}/sites/{district.code}/subscriptions", headers=headers), 200
            )
            if any(s["source_column_id"] == source for s in subs["items"]):
                continue
            body = {
                "column_id": columns[district.code]["通知公告"],
                "source_column_id": source,
                "auto_publish": False,
            }
            _check(
                await demo.client.post(
                    f"{API}/sites/{district.code}/subscriptions", json=body, headers=headers
                ),
                201,
            )
    demo.console.print(
        f"[green]站点[/green] {len(SITES)} 个（新建 {created}），每站 {len(STANDARD_COLUMNS)} 个标准栏目；"
        f"{len(DISTRICTS)} 个区县的通知公告订阅市政府门户（转载）"
    )
