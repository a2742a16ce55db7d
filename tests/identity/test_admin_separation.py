"""Three-way administration (等保三级): none can do another's job, nobody holds two."""

from __future__ import annotations

from tests.identity.helpers import API, bearer, internal_token, make_user, user_token
from tests.support.platform import Platform


async def _admins(platform: Platform) -> dict[str, str]:
    internal = await internal_token(platform.client, platform.settings)
    tokens = {}
    for username, role in (
        ("sysadm", "platform_admin"),
        ("secadm", "security_admin"),
        ("audadm", "audit_admin"),
    ):
        _, password = await make_user(platform.client, internal, username, [(role, None)])
        tokens[role] = await user_token(platform.client, username, password)
    return tokens


async def test_each_administrator_does_only_their_own_job(platform: Platform) -> None:
    t = await _admins(platform)
    sys_, sec, aud = (bearer(t[r]) for r in ("platform_admin", "security_admin", "audit_admin"))
    c = platform.client

    # System administrator: organisations, users, clients; not roles, keys, policy or audit.
    org = await c.post(f"{API}/orgs", json={"code": "sp", "name": "示范省", "kind": "province"}, headers=sys_)
    assert org.status_code == 201, org.text
    user = await c.post(
        f"{API}/users",
        json={"username": "xiaoming", "display_name": "小明", "password": "Xm-2024-pass"},
        headers=sys_,
    )
    assert user.status_code == 201
    uid = user.json()["id"]
    assert (
        await c.post(f"{API}/users/{uid}/roles", json={"role": "editor", "site": "jtj"}, headers=sys_)
    ).status_code == 403
    assert (await c.post(f"{API}/keys/rotate", headers=sys_)).status_code == 403
    assert (await c.get(f"{API}/policy", headers=sys_)).status_code == 403
    assert (await c.get(f"{API}/audit", headers=sys_)).status_code == 403

    # Security administrator: roles, keys, policy; not users, clients or audit.
    bound = await c.post(f"{API}/users/{uid}/roles", json={"role": "editor", "site": "jtj"}, headers=sec)
    assert bound.status_code == 201
    assert (await c.post(f"{API}/keys/rotate", headers=sec)).status_code == 200
    policy = {
        "password_min_length": 10,
        "lockout_max_failures": 5,
        "lockout_window_seconds": 900,
        "lockout_seconds": 900,
    }
    assert (await c.put(f"{API}/policy", json=policy, headers=sec)).status_code == 200
    assert (
        await c.post(
            f"{API}/users",
            json={"username": "xiaohong", "display_name": "x", "password": "Xm-2024-pass!"},
            headers=sec,
        )
    ).status_code == 403
    assert (await c.patch(f"{API}/users/{uid}", json={"status": "disabled"}, headers=sec)).status_code == 403
    assert (await c.get(f"{API}/clients", headers=sec)).status_code == 403
    assert (await c.get(f"{API}/audit", headers=sec)).status_code == 403

    # Audit administrator: reads and verifies the audit log; nothing else.
    assert (await c.get(f"{API}/audit", headers=aud)).status_code == 200
    verify = await c.get(f"{API}/audit/verify", headers=aud)
    assert verify.status_code == 200 and verify.json()["ok"] is True
    assert (await c.get(f"{API}/users", headers=aud)).status_code == 403
    assert (
        await c.post(f"{API}/users/{uid}/roles", json={"role": "reviewer", "site": "jtj"}, headers=aud)
    ).status_code == 403
    assert (
        await c.post(f"{API}/orgs", json={"code": "x", "name": "x", "kind": "province"}, headers=aud)
    ).status_code == 403

    # The policy the security administrator set applies to the system administrator's work.
    short = await c.post(
        f"{API}/users",
        json={"username": "xiaogang", "display_name": "x", "password": "Xm-2024-p"},
        headers=sys_,
    )
    assert short.status_code == 422 and "10" in short.json()["errors"][0]["message"]


async def test_nobody_holds_two_administrator_roles(platform: Platform) -> None:
    internal = await internal_token(platform.client, platform.settings)
    uid, _ = await make_user(platform.client, internal, "duoneng", [("security_admin", None)])
    for role in ("platform_admin", "audit_admin"):
        refused = await platform.client.post(
            f"{API}/users/{uid}/roles", json={"role": role, "site": None}, headers=bearer(internal)
        )
        assert refused.status_code == 409, refused.text
        assert "三权分立" in refused.json()["detail"]
    site_scoped = await platform.client.post(
        f"{API}/users/{uid}/roles", json={"role": "audit_admin", "site": "jtj"}, headers=bearer(internal)
    )
    assert site_scoped.status_code == 422
    # Site roles beside one administrator role are allowed.
    editor = await platform.client.post(
        f"{API}/users/{uid}/roles", json={"role": "editor", "site": "jtj"}, headers=bearer(internal)
    )
    assert editor.status_code == 201
    # The bootstrap `admin` is the system administrator and cannot become security admin too.
    users = await platform.client.get(f"{API}/users", params={"username": "admin"}, headers=bearer(internal))
    admin_id = users.json()["items"][0]["id"]
    assert users.json()["items"][0]["roles"][0]["role"] == "platform_admin"
    both = await platform.client.post(
        f"{API}/users/{admin_id}/roles",
        json={"role": "security_admin", "site": None},
        headers=bearer(internal),
    )
    assert both.status_code == 409


async def test_a_site_role_gives_no_platform_administration(platform: Platform) -> None:
    internal = await internal_token(platform.client, platform.settings)
    _, password = await make_user(
        platform.client, internal, "zhanzhang", [("site_admin", "jtj"), ("auditor", "jtj")]
    )
    token = bearer(await user_token(platform.client, "zhanzhang", password))
    assert (await platform.client.get(f"{API}/users", headers=token)).status_code == 403
    assert (await platform.client.get(f"{API}/audit", headers=token)).status_code == 403  # site auditor only
