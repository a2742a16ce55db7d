"""One refresh token or one authorization code redeemed 20 times at once: exactly one wins, and
the losers count as the reuse they are (the family is revoked), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from services.kernel import clock
from tests.identity.helpers import API, bearer, internal_token, make_user, password_login
from tests.identity.oidc import hidden_fields
from tests.support import real
from tests.support.services import running_service, service_settings

REDIRECT = "https://jtj.example.gov.cn/callback"
N = 20


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else await real.fresh_postgres_database()


def _refresh_form(token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "client_id": "jiyue-console", "refresh_token": token}


async def _audit_total(client: httpx.AsyncClient, internal: str, action: str) -> int:
    resp = await client.get(f"{API}/audit", params={"action": action}, headers=bearer(internal))
    return int(resp.json()["total"])


async def test_concurrent_refresh_redemptions(tmp_path: Path, database_url: str) -> None:
    async with running_service("identity", tmp_path, database_url=database_url) as (_app, client):
        internal = await internal_token(
            client, service_settings("identity", tmp_path, database_url=database_url)
        )
        _, password = await make_user(client, internal, "racer")
        first = (await password_login(client, "racer", password)).json()["refresh_token"]
        answers = await asyncio.gather(
            *(client.post(f"{API}/token", data=_refresh_form(first)) for _ in range(N))
        )
        codes = sorted(r.status_code for r in answers)
        assert codes == [200] + [400] * (N - 1), [r.text for r in answers if r.status_code != 400]
        winner = next(r for r in answers if r.status_code == 200).json()["refresh_token"]
        # The losers were reuse: the winner's new token went down with the family.
        after = await client.post(f"{API}/token", data=_refresh_form(winner))
        assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
        assert await _audit_total(client, internal, "token.reuse_detected") >= 1


async def test_concurrent_code_redemptions(tmp_path: Path, database_url: str) -> None:
    async with running_service("identity", tmp_path, database_url=database_url) as (_app, client):
        internal = await internal_token(
            client, service_settings("identity", tmp_path, database_url=database_url)
        )
        _, password = await make_user(client, internal, "racer")
        registered = await client.post(
            f"{API}/clients",
            json={
                "client_id": "jtj-site",
                "name": "交通局网站",
                "kind": "public",
                "redirect_uris": [REDIRECT],
                "grants": ["authorization_code", "refresh_token"],
                "scopes": "openid profile",
            },
            headers=bearer(internal),
        )
        assert registered.status_code == 201, registered.text
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": "jtj-site",
                "redirect_uri": REDIRECT,
                "scope": "openid profile",
                "state": "s1",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        page = await client.get(f"{API}/authorize?{query}")
        assert page.status_code == 200, page.text[:300]
        form = {**hidden_fields(page.text), "username": "racer", "password": password}
        signed_in = await client.post(f"{API}/authorize", data=form)
        assert signed_in.status_code == 303, signed_in.text[:300]
        code = parse_qs(urlsplit(signed_in.headers["location"]).query)["code"][0]
        exchange = {
            "grant_type": "authorization_code",
            "client_id": "jtj-site",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        answers = await asyncio.gather(*(client.post(f"{API}/token", data=exchange) for _ in range(N)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [200] + [400] * (N - 1), [r.text for r in answers if r.status_code != 400]
        won = next(r for r in answers if r.status_code == 200).json()
        refreshed = await client.post(
            f"{API}/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "jtj-site",
                "refresh_token": won["refresh_token"],
            },
        )
        assert refreshed.status_code == 400  # the code's reuse revoked what its exchange issued
        assert await _audit_total(client, internal, "code.reuse_detected") >= 1


async def test_a_refresh_family_ends_at_its_maximum_lifetime(tmp_path: Path) -> None:
    overrides = {"refresh_family_max_seconds": 3 * 86400, "refresh_token_ttl_seconds": 2 * 86400}
    async with running_service("identity", tmp_path, **overrides) as (_app, client):
        internal = await internal_token(client, service_settings("identity", tmp_path, **overrides))
        _, password = await make_user(client, internal, "longlived")
        token = (await password_login(client, "longlived", password)).json()["refresh_token"]
        try:
            for _ in range(2):  # rotating within the family's life works...
                clock.shift(timedelta(days=1, hours=8))
                resp = await client.post(f"{API}/token", data=_refresh_form(token))
                assert resp.status_code == 200, resp.text
                token = resp.json()["refresh_token"]
            clock.shift(timedelta(days=1))
            ended = await client.post(f"{API}/token", data=_refresh_form(token))
        finally:
            clock.reset()
        assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
