"""Demo step: the organisation tree of 示范市 and an account for every role on every site.

Everything goes through identity's API with the platform's internal client, as an operator's
tooling would. Passwords are random but policy-compliant; a re-run reuses the ones already
written to demo-accounts.json, so the accounts keep working.
"""

from __future__ import annotations

import json
import os
from typing import Any

from gateway.demo.city import DISTRICTS, PORTAL, SITES
from gateway.demo.seed import Demo
from services.identity.service.passwords import generate_password

API = "/api/identity/v1"
PROVINCE = ("sfsheng", "示范省")


def _known_passwords(demo: Demo) -> dict[str, str]:
    path = demo.settings.resolved_data_dir / "demo-accounts.json"
    if not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {r["username"]: r["password"] for r in rows if isinstance(r, dict) and r.get("password")}


async def _ensure(demo: Demo, auth: dict[str, str], path: str, body: dict[str, Any]) -> None:
    resp = await demo.client.post(f"{API}{path}", json=body, headers=auth)
    if resp.status_code not in (201, 409):
        raise RuntimeError(f"POST {path} failed: {resp.status_code} {resp.text[:300]}")


async def _org_tree(demo: Demo, auth: dict[str, str]) -> None:
    await _ensure(demo, auth, "/orgs", {"code": PROVINCE[0], "name": PROVINCE[1], "kind": "province"})
    await _ensure(
        demo,
        auth,
        "/orgs",
        {"code": PORTAL.org_code, "name": "示范市", "kind": "city", "parent_code": PROVINCE[0]},
    )
    for district in DISTRICTS:
        kind = "county" if district.name.endswith("县人民政府") else "district"
        body = {
            "code": district.org_code,
            "name": district.name,
            "kind": kind,
            "parent_code": PORTAL.org_code,
        }
        await _ensure(demo, auth, "/orgs", body)
    for site in SITES:
        if site.kind == "department":
            body = {
                "code": site.org_code,
                "name": site.org_name,
                "kind": "department",
                "parent_code": PORTAL.org_code,
            }
            await _ensure(demo, auth, "/orgs", body)


async def _account(
    demo: Demo,
    auth: dict[str, str],
    known: dict[str, str],
    username: str,
    display_name: str,
    role: str,
    site: str | None,
    org: str | None,
) -> None:
    password = known.get(username) or generate_password()
    created = await demo.client.post(
        f"{API}/users",
        json={"username": username, "display_name": display_name, "password": password, "org_code": org},
        headers=auth,
    )
    if created.status_code == 201:
        user = created.json()
    elif created.status_code == 409:
        found = await demo.client.get(f"{API}/users", params={"username": username}, headers=auth)
        user = found.json()["items"][0]
        if username not in known:  # the password is nowhere on record: set the one we will list
            reset = await demo.client.patch(
                f"{API}/users/{user['id']}", json={"password": password}, headers=auth
            )
            reset.raise_for_status()
    else:
        raise RuntimeError(f"creating {username} failed: {created.status_code} {created.text[:300]}")
    if not any(r["role"] == role and r["site"] == site for r in user["roles"]):
        await _ensure(demo, auth, f"/users/{user['id']}/roles", {"role": role, "site": site})
    demo.accounts.append({"username": username, "role": role, "site": site, "password": password})


async def _citizen(demo: Demo, auth: dict[str, str], known: dict[str, str]) -> None:
    username = "citizen01"
    password = known.get(username) or generate_password()
    resp = await demo.client.post(
        f"{API}/register", json={"username": username, "password": password, "display_name": "市民张三"}
    )
    if resp.status_code == 409 and username not in known:
        found = await demo.client.get(f"{API}/users", params={"username": username}, headers=auth)
        user_id = found.json()["items"][0]["id"]
        (
            await demo.client.patch(f"{API}/users/{user_id}", json={"password": password}, headers=auth)
        ).raise_for_status()
    elif resp.status_code not in (201, 409):
        raise RuntimeError(f"registering {username} failed: {resp.status_code} {resp.text[:300]}")
    demo.accounts.append({"username": username, "role": "citizen", "site": None, "password": password})


async def _site_clients(demo: Demo, auth: dict[str, str]) -> None:
    """A public OIDC client per hosted site, so single sign-on can be tried on the demo."""
    for site in SITES:
        redirects = [f"https://{domain}/auth/callback" for domain in site.domains if domain.isascii()]
        body = {
            "client_id": f"site-{site.code}",
            "name": site.name,
            "kind": "public",
            "redirect_uris": [*redirects, "http://localhost:8080/auth/callback"],
            "grants": ["authorization_code", "refresh_token"],
            "scopes": "openid profile",
            "site": site.code,
        }
        await _ensure(demo, auth, "/clients", body)


async def seed(demo: Demo) -> None:
    auth = await demo.internal_headers()
    known = _known_passwords(demo)
    with demo.console.status("统一身份认证：机构、账号与角色…"):
        await _org_tree(demo, auth)
        for site in SITES:
            for suffix, role, label in (
                ("admin", "site_admin", "站点管理员"),
                ("editor", "editor", "编辑"),
                ("reviewer1", "reviewer", "审核员一"),
                ("reviewer2", "reviewer", "审核员二"),
            ):
                name = f"{site.code}_{suffix}"
                await _account(demo, auth, known, name, f"{site.name}{label}", role, site.code, site.org_code)
        for username, role, label in (
            ("secadmin", "security_admin", "安全管理员"),
            ("auditadmin", "audit_admin", "审计管理员"),
            ("inspector", "auditor", "平台巡检员"),
        ):
            await _account(demo, auth, known, username, label, role, None, PORTAL.org_code)
        await _citizen(demo, auth, known)
        await _site_clients(demo, auth)
    admin_password = os.environ.get("JIYUE_ADMIN_PASSWORD")
    if admin_password:
        demo.accounts.append(
            {"username": "admin", "role": "platform_admin", "site": None, "password": admin_password}
        )
    demo.console.print(f"[green]统一身份认证[/green]：{len(demo.accounts)} 个演示账号就绪")
