"""In-process operator tooling (demo seeding, imports) is exempt from client rate limits;
nothing arriving over the network can claim that exemption."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.identity.helpers import FAST_ARGON2
from tests.support.platform import Platform


async def test_trusted_entry_is_not_rate_limited_but_clients_are(tmp_path: Path, monkeypatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    async with Platform.start(tmp_path, gateway_rate_signin_burst=3, gateway_rate_signin_per_minute=1) as p:
        form = {"grant_type": "password", "client_id": "jiyue-console", "username": "nobody", "password": "x"}
        client_codes = [
            (await p.client.post("/api/identity/v1/token", data=form)).status_code for _ in range(6)
        ]
        assert 429 in client_codes

        spoofed = await p.client.post(
            "/api/identity/v1/token", data=form, headers={"jiyue.trusted": "1", "X-Jiyue-Trusted": "1"}
        )
        assert spoofed.status_code == 429

        transport = httpx.ASGITransport(app=p.gateway.trusted)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as tooling:
            codes = [(await tooling.post("/api/identity/v1/token", data=form)).status_code for _ in range(6)]
        assert 429 not in codes and set(codes) <= {400, 401}
