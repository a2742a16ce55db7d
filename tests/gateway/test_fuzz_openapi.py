"""schemathesis over the merged OpenAPI, as an outsider would run it: every 5xx is a bug.

The platform runs on a loopback socket (a real uvicorn server, so requests cross HTTP exactly as
they do in production) and the `st` command-line tool fuzzes every operation the merged
document lists — a route added tomorrow is fuzzed the day it exists, without editing this file.
Bounded: deterministic generation (the same cases every run), a few examples per operation and a hard deadline.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gateway import migrate
from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from tests.gateway.servers import serving
from tests.identity.helpers import FAST_ARGON2

EXAMPLES_PER_OPERATION = 3
DEADLINE_SECONDS = 600  # ~250 operations: under two minutes on a quiet machine, several under load


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail("schemathesis (`st`) is not installed in the test environment: run ./scripts/bootstrap")
    return found


@pytest.mark.timeout(DEADLINE_SECONDS + 60)
async def test_no_operation_answers_a_server_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    password = "Fz-" + secrets.token_urlsafe(16)
    monkeypatch.setenv("JIYUE_ADMIN_PASSWORD", password)
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    settings = GatewaySettings(
        data_dir=tmp_path / "data",
        public_url="http://127.0.0.1",
        gateway_rate_exempt=["127.0.0.0/8", "::1/128"],
    )
    await migrate.migrate(data_dir=settings.data_dir, public_url=settings.public_url)
    app = create_gateway(settings)
    with serving(app, start_timeout=120) as port:  # every service starts; slow on a busy machine
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            resp = await client.post(
                "/api/identity/v1/token",
                data={
                    "grant_type": "password",
                    "client_id": "jiyue-console",
                    "username": "admin",
                    "password": password,
                },
            )
            assert resp.status_code == 200, resp.text
            token = resp.json()["access_token"]
            operations = len(
                [m for p in (await client.get("/openapi.json")).json()["paths"].values() for m in p]
            )
        cmd = [
            _st(),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            # Deterministic generation: the same cases on every run, so a failure reproduces.
            "--generation-deterministic",
            "--no-shrink",
            # One worker: CPython 3.11's ast.parse is not thread-safe (gh-106905), and hypothesis
            # parses lambdas' sources while describing strategies, so two worker threads now and
            # then crash the fuzzer itself ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--max-redirects",
            "0",
            "--header",
            f"Authorization: Bearer {token}",
            "--no-color",
            "--warnings",
            "off",
        ]
        code, output = await _run(cmd, DEADLINE_SECONDS, cwd=tmp_path)
    # schemathesis prints every failing operation with a curl line that reproduces it.
    assert code == 0 and "Server error" not in output, output[-8000:]
    assert operations > 50, f"only {operations} operations in the merged OpenAPI"
    summary = [line for line in output.splitlines() if "Tested:" in line or "generated" in line]
    print(f"schemathesis: {operations} operations; {' · '.join(s.strip() for s in summary)}; no 5xx")


async def _run(cmd: list[str], deadline: float, cwd: Path) -> tuple[int, str]:
    # cwd: schemathesis keeps its example database in ./.schemathesis
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), deadline)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"schemathesis did not finish within {deadline} s")
    return int(proc.returncode or 0), out.decode("utf-8", "replace")
