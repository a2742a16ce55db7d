"""/docs on a network without the internet: headless Chromium, every host but loopback cut off,
must still render Swagger UI and list the operations (its script and styles come from the
platform itself, not a CDN)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.app import Gateway
from services.kernel.app import RequestIdMiddleware
from tests.gateway.fakes import ContentState, fake_content, fake_identity, settings
from tests.gateway.servers import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Only loopback resolves: anything the page asks of a public host fails as offline.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=20000",
    "--dump-dom",
]


@pytest.mark.timeout(180)
def test_docs_lists_the_operations_with_the_internet_cut_off(tmp_path: Path, issuer) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "chromium is not installed (deploy/local/chromium.sh installs it; ./scripts/test runs it)"
        )
    gateway = Gateway(settings(tmp_path), services=[])
    gateway.add_local("identity", fake_identity(issuer))
    gateway.add_local("content", fake_content(ContentState()))
    with serving(RequestIdMiddleware(gateway)) as port:
        profile = tmp_path / "profile"
        done = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"http://127.0.0.1:{port}/docs"],
            capture_output=True,
            timeout=150,
        )
    dom = done.stdout.decode("utf-8", "replace")
    assert "swagger-ui" in dom, done.stderr.decode("utf-8", "replace")[-2000:]
    # rendered by the script, not just the page's skeleton: the operations are in the DOM
    assert "opblock-summary-path" in dom, dom[-2000:]
    for path in ("/api/content/v1/site", "/api/identity/v1/token"):
        assert path in dom, path
