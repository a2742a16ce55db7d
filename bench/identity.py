"""Identity benchmark: token issuance rates and the cost of verifying a token in a service.

Runs the identity app in-process on a temporary SQLite database (migrated), reached through
httpx's ASGI transport, so the figures are the service's own work without network or gateway.
The password grant uses the production argon2id parameters: it is bound by design.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Row, latency_row, print_table
from services.identity import app as identity_app
from services.identity.settings import IdentitySettings
from services.kernel import migrations
from services.kernel.auth import TokenVerifier
from services.kernel.runtime import internal_secret

API = "/api/identity/v1"
COMMAND = "python -m bench.identity"
PASSWORD = "Bench-Passw0rd!"


async def _timed(n: int, call: Any) -> tuple[list[float], list[Any], float]:
    samples: list[float] = []
    results: list[Any] = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        results.append(await call())
        samples.append(time.perf_counter() - t0)
    return samples, results, time.perf_counter() - started


async def _run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="jiyue-bench-identity-") as tmp:
        settings = IdentitySettings(data_dir=Path(tmp), admin_password=PASSWORD, log_level="WARNING")
        await migrations.upgrade(migrations.alembic_config("identity", identity_app.MIGRATIONS, settings))
        app = identity_app.create_app(settings, run_workers=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://identity") as client:
                secret = internal_secret(settings)

                async def client_credentials() -> str:
                    resp = await client.post(
                        f"{API}/token",
                        data={
                            "grant_type": "client_credentials",
                            "client_id": "jiyue-internal",
                            "client_secret": secret,
                        },
                    )
                    assert resp.status_code == 200, resp.text
                    return str(resp.json()["access_token"])

                async def password_grant() -> str:
                    resp = await client.post(
                        f"{API}/token",
                        data={
                            "grant_type": "password",
                            "client_id": "jiyue-console",
                            "username": "admin",
                            "password": PASSWORD,
                        },
                    )
                    assert resp.status_code == 200, resp.text
                    return str(resp.json()["access_token"])

                for _ in range(20):
                    await client_credentials()
                n = 200 if quick else 2000
                samples, tokens, total = await _timed(n, client_credentials)
                rows.append(
                    latency_row(
                        "token issuance: client_credentials",
                        samples,
                        throughput=round(n / total, 1),
                        unit="tokens/s",
                        note="ES256 signing + SQLite read, in-process ASGI, one client at a time",
                        command=COMMAND,
                    )
                )
                await password_grant()
                n_pw = 10 if quick else 50
                pw_samples, _, pw_total = await _timed(n_pw, password_grant)
                rows.append(
                    latency_row(
                        "token issuance: password grant (argon2id)",
                        pw_samples,
                        throughput=round(n_pw / pw_total, 1),
                        unit="tokens/s",
                        note=(
                            f"argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_cost} KiB "
                            f"p={settings.argon2_parallelism}; bound by the hash on purpose"
                        ),
                        command=COMMAND,
                    )
                )
                jwks = (await client.get("/.well-known/jwks.json")).json()

        async def fetch() -> dict[str, Any]:
            return dict(jwks)

        verifier = TokenVerifier(fetch, issuer=settings.issuer, audience=settings.token_audience)
        await verifier.verify(tokens[0])  # warm: JWKS loaded once, as in a running service
        fresh = tokens[1:]
        t0 = time.perf_counter()
        uncached: list[float] = []
        for token in fresh:
            s = time.perf_counter()
            await verifier.verify(token)
            uncached.append(time.perf_counter() - s)
        total_uncached = time.perf_counter() - t0
        rows.append(
            latency_row(
                "verify in a service: fresh token (ES256 check)",
                uncached,
                throughput=round(len(fresh) / total_uncached, 1),
                unit="verifications/s",
                target="p95 < 1 ms",
                note="TokenVerifier.verify, JWKS cached, no network call",
                command=COMMAND,
            )
        )
        hot = tokens[1]
        n_hot = 20_000 if quick else 200_000
        cached: list[float] = []
        t0 = time.perf_counter()
        for _ in range(n_hot):
            s = time.perf_counter()
            await verifier.verify(hot)
            cached.append(time.perf_counter() - s)
        total_cached = time.perf_counter() - t0
        rows.append(
            latency_row(
                "verify in a service: cached token",
                cached,
                throughput=round(n_hot / total_cached, 1),
                unit="verifications/s",
                target="p95 < 1 ms",
                note=f"median {statistics.median(cached) * 1e6:.2f} µs: a dict lookup and an expiry check",
                command=COMMAND,
            )
        )
    for row in rows:
        if row.get("target"):
            row["met"] = row["p95_ms"] < 1.0
    return rows


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    import sys

    print_table(run(quick="--quick" in sys.argv))
