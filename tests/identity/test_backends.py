"""Identity's core flows on each database backend: sign-in, refresh reuse, concurrent audit writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.identity.helpers import API, bearer, internal_token, make_user, password_login
from tests.support import real
from tests.support.services import running_service, service_settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else await real.fresh_postgres_database()


async def test_core_flows_and_concurrent_failures(tmp_path: Path, database_url: str) -> None:
    url = database_url
    async with running_service("identity", tmp_path, database_url=url) as (_app, client):
        settings = service_settings("identity", tmp_path, database_url=url)
        internal = await internal_token(client, settings)
        _, password = await make_user(client, internal, "pguser", [("editor", "jtj")])
        first = (await password_login(client, "pguser", password)).json()
        refresh = {"grant_type": "refresh_token", "client_id": "jiyue-console"}
        rotated = await client.post(f"{API}/token", data={**refresh, "refresh_token": first["refresh_token"]})
        assert rotated.status_code == 200
        replay = await client.post(f"{API}/token", data={**refresh, "refresh_token": first["refresh_token"]})
        assert replay.status_code == 400
        again = await client.post(
            f"{API}/token", data={**refresh, "refresh_token": rotated.json()["refresh_token"]}
        )
        assert again.status_code == 400  # the family was revoked and that stuck (committed)

        # Concurrent audited writes: the locked chain head keeps the chain linear.
        results = await asyncio.gather(
            *(password_login(client, "pguser", "Wrong-pass-1") for _ in range(8)), return_exceptions=True
        )
        assert all(not isinstance(r, BaseException) and r.status_code == 400 for r in results)
        chain = await client.get(f"{API}/audit/verify", headers=bearer(internal))
        assert chain.json()["ok"] is True, chain.json()
        failed = await client.get(
            f"{API}/audit", params={"action": "signin.failed"}, headers=bearer(internal)
        )
        assert failed.json()["total"] == 8
        # Every concurrent failure counted: five of them locked the account.
        locked = await client.get(
            f"{API}/audit", params={"action": "account.locked"}, headers=bearer(internal)
        )
        assert locked.json()["total"] == 1
