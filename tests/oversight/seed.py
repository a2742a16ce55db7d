"""A department site for the dashboard tests: six 工作动态 columns and a 通知公告, one item each,
its editor, reviewer and auditor, a site administrator of another site and a citizen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.identity.helpers import bearer, make_user, strong_password, user_token
from tests.support.publishing import CONTENT, eventually, publish

SITE = "jyj"
OTHER = "wsj"
DYNAMIC = [f"工作动态{i}" for i in range(1, 7)]


@dataclass
class Seeded:
    columns: dict[str, int]
    passwords: dict[str, str] = field(default_factory=dict)  # username -> password
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> bearer


async def seed_site(c: httpx.AsyncClient, directory: Any) -> Seeded:
    """`c` talks to the gateway; `directory` is the platform's (the internal client's calls)."""
    content = directory.client("content")
    admin_token = await directory.auth.token()
    for code, name, id_code in (
        (SITE, "示范市教育局", "bm99010020"),
        (OTHER, "示范市卫生健康委员会", "bm99010021"),
    ):
        site = {
            "code": code,
            "name": name,
            "kind": "department",
            "domains": [f"{code}.sfs.gov.cn"],
            "id_code": id_code,
        }
        made_site = await content.post(f"{CONTENT}/sites", json=site)
        assert made_site.status_code == 201, made_site.text
        assert (
            await content.post(f"{CONTENT}/sites/{code}/status", json={"status": "online"})
        ).status_code == 200
    columns: dict[str, int] = {}
    for name in [*DYNAMIC, "通知公告"]:
        made = await content.post(
            f"{CONTENT}/sites/{SITE}/columns", json={"name": name, "review_chain": ["reviewer"]}
        )
        assert made.status_code == 201, made.text
        columns[name] = int(made.json()["id"])
    seeded = Seeded(columns)
    for username, role, site_code in (
        ("jyj_editor", "editor", SITE),
        ("jyj_reviewer", "reviewer", SITE),
        ("jyj_auditor", "auditor", SITE),
        ("wsj_admin", "site_admin", OTHER),
    ):
        _, password = await make_user(c, admin_token, username, [(role, site_code)])
        seeded.passwords[username] = password
        seeded.headers[role] = bearer(await user_token(c, username, password))
    citizen_password = strong_password()
    registered = await c.post(
        "/api/identity/v1/register",
        json={"username": "citizen01", "display_name": "市民甲", "password": citizen_password},
    )
    assert registered.status_code == 201, registered.text
    seeded.passwords["citizen01"] = citizen_password
    await eventually(lambda: c.get(f"/sites/{SITE}/api/content/v1/site"), lambda r: r.status_code == 200)
    for name, column_id in columns.items():
        await publish(c, SITE, seeded.headers, column_id, f"{name}：本周工作情况", issuer="示范市教育局")
    card_url = f"/api/oversight/v1/sites/{SITE}/scorecard"
    seen = await eventually(
        lambda: c.get(card_url, headers=seeded.headers["auditor"]),
        lambda r: r.status_code == 200 and _blank(r.json()) == 0,
    )
    assert seen.status_code == 200 and _blank(seen.json()) == 0, seen.text
    return seeded


def _blank(card: dict[str, Any]) -> int:
    return next(int(i["value"]) for i in card["indicators"] if i["indicator"] == "blank_columns")
