"""Refresh tokens rotate on every use; reuse revokes the family; revocation is immediate."""

from __future__ import annotations

from typing import Any

from tests.identity.helpers import API, bearer, internal_token, make_user, password_login
from tests.support.platform import Platform


async def _refresh(platform: Platform, token: str) -> Any:
    return await platform.client.post(
        f"{API}/token",
        data={"grant_type": "refresh_token", "client_id": "jiyue-console", "refresh_token": token},
    )


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    _, password = await make_user(platform.client, admin, "chenqi")
    first = (await password_login(platform.client, "chenqi", password)).json()
    r1 = first["refresh_token"]

    second = await _refresh(platform, r1)
    assert second.status_code == 200, second.text
    r2 = second.json()["refresh_token"]
    assert r2 != r1 and second.headers["cache-control"] == "no-store"

    # r1 comes back (a thief replaying it, or the client after the thief used r2): all of it ends.
    replay = await _refresh(platform, r1)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    after = await _refresh(platform, r2)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"

    # An unrelated sign-in of the same person is a different family and still works.
    other = (await password_login(platform.client, "chenqi", password)).json()["refresh_token"]
    assert (await _refresh(platform, other)).status_code == 200

    audit = await platform.client.get(
        f"{API}/audit", params={"action": "token.reuse_detected"}, headers=bearer(admin)
    )
    assert audit.json()["total"] == 1


async def test_revocation_is_immediate_for_refresh_tokens(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    _, password = await make_user(platform.client, admin, "zhouba")
    issued = (await password_login(platform.client, "zhouba", password)).json()
    revoke = await platform.client.post(
        f"{API}/revoke", data={"token": issued["refresh_token"], "client_id": "jiyue-console"}
    )
    assert revoke.status_code == 200
    assert (await _refresh(platform, issued["refresh_token"])).status_code == 400
    # RFC 7009: an unknown token (or an access token) is not an error.
    unknown = await platform.client.post(
        f"{API}/revoke", data={"token": "nonsense", "client_id": "jiyue-console"}
    )
    assert unknown.status_code == 200
    # The access token is a self-contained JWT: other services accept it until it expires
    # (the revocation window is the access-token lifetime, 600 s by default).
    assert issued["expires_in"] == 600
    feed = await platform.client.get("/api/search/v1/changes", headers=bearer(issued["access_token"]))
    assert feed.status_code == 403  # authenticated, just not allowed to read the feed


async def test_disabling_a_user_ends_refresh_and_userinfo_at_once(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    user_id, password = await make_user(platform.client, admin, "wujiu")
    issued = (await password_login(platform.client, "wujiu", password)).json()
    assert (
        await platform.client.get(f"{API}/userinfo", headers=bearer(issued["access_token"]))
    ).status_code == 200
    disabled = await platform.client.patch(
        f"{API}/users/{user_id}", json={"status": "disabled"}, headers=bearer(admin)
    )
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert (await _refresh(platform, issued["refresh_token"])).status_code == 400
    assert (
        await platform.client.get(f"{API}/userinfo", headers=bearer(issued["access_token"]))
    ).status_code == 401
    assert (await password_login(platform.client, "wujiu", password)).status_code == 400


async def test_client_credentials_needs_the_secret_and_stays_within_scopes(platform: Platform) -> None:
    bad = await platform.client.post(
        f"{API}/token",
        data={"grant_type": "client_credentials", "client_id": "jiyue-internal", "client_secret": "guess"},
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    admin = await internal_token(platform.client, platform.settings)
    created = await platform.client.post(
        f"{API}/clients",
        json={
            "client_id": "dept-backend",
            "name": "交通局业务系统",
            "kind": "confidential",
            "grants": ["client_credentials"],
            "scopes": "changes:read",
            "site": "jtj",
        },
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    # Nobody can register or upgrade a client to the platform's all-powerful `internal` scope.
    upgrade = await platform.client.patch(
        f"{API}/clients/dept-backend", json={"scopes": "changes:read internal"}, headers=bearer(admin)
    )
    assert upgrade.status_code == 422 and upgrade.json()["errors"][0]["field"] == "scopes"
    hijack = await platform.client.patch(
        f"{API}/clients/jiyue-internal", json={"rotate_secret": True}, headers=bearer(admin)
    )
    assert hijack.status_code == 409
    wider = await platform.client.post(
        f"{API}/token",
        data={"grant_type": "client_credentials", "scope": "changes:read internal"},
        auth=("dept-backend", secret),
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    ok = await platform.client.post(
        f"{API}/token", data={"grant_type": "client_credentials"}, auth=("dept-backend", secret)
    )
    assert ok.status_code == 200 and ok.json()["scope"] == "changes:read"
    feed = await platform.client.get("/api/content/v1/changes", headers=bearer(ok.json()["access_token"]))
    assert feed.status_code == 200
    # A public client may not use the password grant unless it is first-party (jiyue-console is).
    pw = await platform.client.post(
        f"{API}/token",
        data={"grant_type": "password", "username": "admin", "password": "x"},
        auth=("dept-backend", secret),
    )
    assert pw.status_code == 400 and pw.json()["error"] == "unauthorized_client"
