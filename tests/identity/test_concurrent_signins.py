"""Many sign-ins at once: every one succeeds and the audit chain stays whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.identity.helpers import FAST_ARGON2, bearer, internal_token, make_user, password_login
from tests.support.platform import Platform


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def test_parallel_password_sign_ins_all_succeed_and_chain_verifies(tmp_path: Path) -> None:
    async with Platform.start(tmp_path, gateway_rate_limits=False) as platform:
        c = platform.client
        internal = await internal_token(c, platform.settings)
        users = [await make_user(c, internal, f"user{i}") for i in range(8)]
        results = await asyncio.gather(
            *(password_login(c, f"user{i}", pw) for i, (_, pw) in enumerate(users) for _ in range(2))
        )
        assert [r.status_code for r in results] == [200] * 16, [
            r.text for r in results if r.status_code != 200
        ]
        wrong = await asyncio.gather(*(password_login(c, f"user{i}", "Wrong-pass-1") for i in range(8)))
        assert all(r.status_code in (400, 401) for r in wrong)
        auditor = await make_user(c, internal, "auditor1", [("audit_admin", None)])
        token = (await password_login(c, "auditor1", auditor[1])).json()["access_token"]
        verified = await c.get("/api/identity/v1/audit/verify", headers=bearer(token))
        assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text
