"""Shared steps of the identity tests: tokens for the internal client and for new users."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from services.kernel.runtime import internal_secret

FAST_ARGON2 = {
    "JIYUE_ARGON2_TIME_COST": "1",
    "JIYUE_ARGON2_MEMORY_COST": "1024",
    "JIYUE_ARGON2_PARALLELISM": "1",
}
API = "/api/identity/v1"


def strong_password() -> str:
    return "Aa1-" + secrets.token_urlsafe(12)


def _internal_route(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The internal client never goes through the gateway (identity refuses it there, the
    gateway marking everything it forwards as from outside): in a whole-platform test, ask
    identity in-process as the services themselves do."""
    app = getattr(getattr(client, "_transport", None), "app", None)
    gateway = getattr(app, "gateway", None)
    return gateway.directory.raw("identity") if gateway is not None else client


async def internal_token(client: httpx.AsyncClient, settings: Any) -> str:
    resp = await _internal_route(client).post(
        f"{API}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "jiyue-internal",
            "client_secret": internal_secret(settings),
            "scope": "changes:read internal",
        },
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_user(
    client: httpx.AsyncClient,
    admin_token: str,
    username: str,
    roles: list[tuple[str, str | None]] = (),  # type: ignore[assignment]
    password: str | None = None,
) -> tuple[int, str]:
    password = password or strong_password()
    resp = await client.post(
        f"{API}/users",
        json={"username": username, "display_name": username, "password": password},
        headers=bearer(admin_token),
    )
    assert resp.status_code == 201, resp.text
    user_id = int(resp.json()["id"])
    for role, site in roles:
        bound = await client.post(
            f"{API}/users/{user_id}/roles", json={"role": role, "site": site}, headers=bearer(admin_token)
        )
        assert bound.status_code == 201, bound.text
    return user_id, password


async def password_login(
    client: httpx.AsyncClient, username: str, password: str, **extra: str
) -> httpx.Response:
    return await client.post(
        f"{API}/token",
        data={
            "grant_type": "password",
            "client_id": "jiyue-console",
            "username": username,
            "password": password,
            **extra,
        },
    )


async def user_token(client: httpx.AsyncClient, username: str, password: str) -> str:
    resp = await password_login(client, username, password)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])
