"""Seeding the in-process platform (tests/support/platform.py) for resources' end-to-end tests:
sites, people in every role, and an item with a PDF attachment through the real review flow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from tests.identity.helpers import bearer, internal_token, make_user, strong_password, user_token
from tests.support.platform import Platform

PDF = (
    b"%PDF-1.4\n%\xe5\xb1\x85\xe6\xb0\x91\n1 0 obj<<>>endobj\n% JIYUE-A-SECRET-PDF\n"
    + b"7" * 300
    + b"\n%%EOF\n"
)
CHECK = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}


async def eventually(
    fetch: Callable[[], Awaitable[httpx.Response]],
    ok: Callable[[httpx.Response], bool],
    seconds: float = 10.0,
) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = await fetch()
        if ok(resp) or time.monotonic() > deadline:
            return resp
        await asyncio.sleep(0.02)


@dataclass
class City:
    """Two sites, A and B, and headers for a person in every role (by name `<role>_<site>`)."""

    platform: Platform
    internal: dict[str, str]
    people: dict[str, dict[str, str]] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.platform.client

    async def add_site(self, code: str, name: str, domain: str) -> None:
        c = self.client
        site = {
            "code": code,
            "name": name,
            "kind": "department",
            "domains": [domain],
            "id_code": f"bm9901{len(self.columns) + 1:04d}",
        }
        made = await c.post("/api/content/v1/sites", json=site, headers=self.internal)
        assert made.status_code == 201, made.text
        online = await c.post(
            f"/api/content/v1/sites/{code}/status", json={"status": "online"}, headers=self.internal
        )
        assert online.status_code == 200, online.text
        known = await eventually(
            lambda: c.get(f"/sites/{code}/api/content/v1/site"), lambda r: r.status_code == 200
        )
        assert known.status_code == 200, known.text
        column = await c.post(
            f"/api/content/v1/sites/{code}/columns",
            json={"name": f"{name}通知公告", "review_chain": ["reviewer"]},
            headers=self.internal,
        )
        assert column.status_code == 201, column.text
        self.columns[code] = int(column.json()["id"])

    async def add_person(self, name: str, roles: list[tuple[str, str | None]]) -> dict[str, str]:
        raw = self.internal["Authorization"].removeprefix("Bearer ")
        self.user_ids[name], password = await make_user(self.client, raw, name, roles)
        self.people[name] = bearer(await user_token(self.client, name, password))
        return self.people[name]

    async def resource_with_pdf(self, site: str, title: str, *, store: bool = True) -> tuple[int, str]:
        c, editor = self.client, self.people[f"editor_{site}"]
        body = {
            "metadata": {
                "title": title,
                "issuer_org": {"code": site.upper(), "name": f"{site}局"},
                "genre": "tongzhi",
                "keywords": ["通知"],
            },
            "body_html": f"<p>{title}。</p>",
            "scope": "own_site",
        }
        made = await c.post(f"/sites/{site}/api/resources/v1/resources", json=body, headers=editor)
        assert made.status_code == 201, made.text
        rid = int(made.json()["id"])
        up = await c.post(
            f"/api/resources/v1/resources/{rid}/attachments",
            files={"file": ("名单.pdf", PDF)},
            headers=editor,
        )
        assert up.status_code == 201, up.text
        if store:
            stored = await c.post(f"/api/resources/v1/resources/{rid}/store", headers=editor)
            assert stored.status_code == 200, stored.text
        return rid, str(up.json()["sha256"])

    async def place(self, site: str, rid: int) -> int:
        placed = await self.client.post(
            f"/api/content/v1/sites/{site}/publications",
            json={"column_id": self.columns[site], "resource_id": rid, "resource_version": 1},
            headers=self.people[f"editor_{site}"],
        )
        assert placed.status_code == 201, placed.text
        return int(placed.json()["id"])

    async def publish(self, site: str, pid: int) -> None:
        c = self.client
        for action, who, body in (
            ("submit", "editor", {}),
            ("approve", "reviewer", CHECK),
            ("publish", "editor", {}),
        ):
            resp = await c.post(
                f"/api/content/v1/publications/{pid}/{action}",
                json=body,
                headers=self.people[f"{who}_{site}"],
            )
            assert resp.status_code == 200, (action, resp.text)


SITE_PEOPLE = ("editor", "reviewer", "site_admin", "auditor")
ADMIN_PEOPLE = ("platform_admin", "security_admin", "audit_admin")


async def seed_city(platform: Platform, sites: dict[str, tuple[str, str]]) -> City:
    """`sites`: code -> (name, domain). People: `<role>_<code>` for site roles, the admins by
    their role name, and `citizen01`."""
    city = City(platform, bearer(await internal_token(platform.client, platform.settings)))
    for code, (name, domain) in sites.items():
        await city.add_site(code, name, domain)
        for role in SITE_PEOPLE:
            await city.add_person(f"{role}_{code}", [(role, code)])
    for role in ADMIN_PEOPLE:
        await city.add_person(role, [(role, None)])
    password = strong_password()
    registered = await platform.client.post(
        "/api/identity/v1/register",
        json={"username": "citizen01", "display_name": "市民", "password": password},
    )
    assert registered.status_code == 201, registered.text
    city.people["citizen01"] = bearer(await user_token(platform.client, "citizen01", password))
    return city
