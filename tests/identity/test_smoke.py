from __future__ import annotations

from pathlib import Path

from tests.identity.helpers import API, bearer, internal_token, make_user, user_token
from tests.support.services import running_service, service_settings


async def test_internal_client_and_a_user_sign_in(tmp_path: Path) -> None:
    async with running_service("identity", tmp_path) as (_app, client):
        token = await internal_token(client, service_settings("identity", tmp_path))
        _, password = await make_user(client, token, "alice", [("editor", "jtj")])
        access = await user_token(client, "alice", password)
        info = await client.get(f"{API}/userinfo", headers=bearer(access))
        assert info.status_code == 200, info.text
        assert info.json()["roles"] == [{"role": "editor", "site": "jtj"}]
