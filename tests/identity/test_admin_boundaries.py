"""三员分立 towards people: no administrator manages another kind's account or roles, nobody their own."""

from __future__ import annotations

import httpx

from tests.identity.helpers import API, bearer, internal_token, make_user, strong_password, user_token
from tests.support.platform import Platform


def _refused(resp: httpx.Response) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "三员分立" in resp.json()["detail"]


async def _setup(platform: Platform) -> tuple[dict[str, str], dict[str, int], str]:
    internal = await internal_token(platform.client, platform.settings)
    tokens, ids = {}, {}
    for username, role in (
        ("sysadm", "platform_admin"),
        ("secadm", "security_admin"),
        ("audadm", "audit_admin"),
    ):
        ids[role], password = await make_user(platform.client, internal, username, [(role, None)])
        tokens[role] = await user_token(platform.client, username, password)
    return tokens, ids, internal


async def _refusals(platform: Platform, internal: str) -> list[dict[str, object]]:
    resp = await platform.client.get(
        f"{API}/audit", params={"action": "access.refused", "size": 100}, headers=bearer(internal)
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


async def test_system_admin_cannot_take_over_the_other_administrators(platform: Platform) -> None:
    tokens, ids, internal = await _setup(platform)
    c, sys_ = platform.client, bearer(tokens["platform_admin"])
    for target in ("security_admin", "audit_admin"):
        uid = ids[target]
        _refused(await c.patch(f"{API}/users/{uid}", json={"password": strong_password()}, headers=sys_))
        _refused(await c.patch(f"{API}/users/{uid}", json={"status": "disabled"}, headers=sys_))
        _refused(await c.patch(f"{API}/users/{uid}", json={"display_name": "改名"}, headers=sys_))
    # The refused password reset did not happen: the security administrator still works.
    still = await c.get(f"{API}/policy", headers=bearer(tokens["security_admin"]))
    assert still.status_code == 200
    # Plain accounts and fellow system administrators stay manageable.
    plain, _ = await make_user(c, internal, "putong")
    assert (
        await c.patch(f"{API}/users/{plain}", json={"status": "disabled"}, headers=sys_)
    ).status_code == 200
    other, _ = await make_user(c, internal, "sysadm2", [("platform_admin", None)])
    assert (
        await c.patch(f"{API}/users/{other}", json={"display_name": "x"}, headers=sys_)
    ).status_code == 200

    refused = await _refusals(platform, internal)
    assert len(refused) == 6
    assert {r["target"] for r in refused} == {"secadm", "audadm"}
    assert all(r["actor"] == "sysadm" and r["detail"]["reason"] == "other-administrator" for r in refused)


async def test_security_admin_cannot_grant_itself_or_touch_other_administrators(platform: Platform) -> None:
    tokens, ids, internal = await _setup(platform)
    c, sec = platform.client, bearer(tokens["security_admin"])
    me = ids["security_admin"]
    _refused(await c.post(f"{API}/users/{me}/roles", json={"role": "editor", "site": "jtj"}, headers=sec))
    own = (await c.get(f"{API}/users/{me}/roles", headers=sec)).json()[0]["id"]
    _refused(await c.delete(f"{API}/users/{me}/roles/{own}", headers=sec))
    for target in ("platform_admin", "audit_admin"):
        uid = ids[target]
        _refused(
            await c.post(f"{API}/users/{uid}/roles", json={"role": "editor", "site": "jtj"}, headers=sec)
        )
        binding = (await c.get(f"{API}/users/{uid}/roles", headers=sec)).json()[0]["id"]
        _refused(await c.delete(f"{API}/users/{uid}/roles/{binding}", headers=sec))
    # Nothing changed: no editor role on anyone, the administrators keep theirs.
    for uid in ids.values():
        roles = (await c.get(f"{API}/users/{uid}/roles", headers=sec)).json()
        assert [r["role"] for r in roles] == [next(k for k, v in ids.items() if v == uid)]
    # Ordinary staff still get roles from the security administrator.
    plain, _ = await make_user(c, internal, "bianji")
    granted = await c.post(f"{API}/users/{plain}/roles", json={"role": "editor", "site": "jtj"}, headers=sec)
    assert granted.status_code == 201

    refused = await _refusals(platform, internal)
    assert len(refused) == 6
    reasons = sorted(str(r["detail"]["reason"]) for r in refused)
    assert reasons == ["other-administrator"] * 4 + ["self"] * 2
