"""Split mode for real: a service on its own socket believes tenant and client address only
from the gateway's signed context (`x-jiyue-edge`), never from a caller who sets the headers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.kernel.edge import edge_key, sign_edge
from tests.support import real
from tests.support.split import SplitPlatform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SITE = {
    "code": "jtj",
    "name": "示范市交通运输局",
    "kind": "department",
    "domains": ["jtj.sfs.gov.cn"],
    "id_code": "bm99010010",
}
SITE_PATH = "/api/content/v1/site"


@pytest.fixture
def split(tmp_path: Path) -> Iterator[SplitPlatform]:
    db_url = asyncio.run(real.fresh_postgres_database())
    platform = SplitPlatform.configure(tmp_path, database_url=db_url)
    try:
        platform.migrate()
        for name in ("identity", "content", "gateway"):
            platform.start(name, timeout=180)
        yield platform
    except Exception:
        for name in platform.procs:
            print(f"--- {name} log ---\n{platform.log_tail(name)}")
        raise
    finally:
        platform.stop_all()


def stale_edge(key: bytes, method: str, path: str, site: str, client: str, age: int) -> str:
    stamp = int(time.time()) - age
    message = b"\n".join(
        [method.encode(), path.encode(), site.encode(), client.encode(), str(stamp).encode()]
    )
    return f"v1.{stamp}.{hmac.new(key, message, hashlib.sha256).hexdigest()}"


def test_forged_gateway_context_is_refused_by_a_split_mode_service(split: SplitPlatform) -> None:
    identity, content = split.url("identity"), split.url("content")
    token = httpx.post(
        f"{identity}/api/identity/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "jiyue-internal",
            "client_secret": split.env["JIYUE_INTERNAL_CLIENT_SECRET"],
            "scope": "changes:read internal",
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
    created = httpx.post(f"{content}/api/content/v1/sites", json=SITE, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    online = httpx.post(
        f"{content}/api/content/v1/sites/jtj/status", json={"status": "online"}, headers=admin, timeout=10
    )
    assert online.status_code == 200, online.text

    # A caller who reaches the service's port names a tenant: refused, as problem+json.
    forged = httpx.get(f"{content}{SITE_PATH}", headers={"x-jiyue-site": "jtj"}, timeout=10)
    assert forged.status_code == 403, forged.text
    assert forged.headers["content-type"].startswith("application/problem+json")
    spoofed_ip = httpx.get(f"{content}{SITE_PATH}", headers={"x-jiyue-client-ip": "10.9.9.9"}, timeout=10)
    assert spoofed_ip.status_code == 403

    key = edge_key(split.env["JIYUE_INTERNAL_CLIENT_SECRET"])
    wrong_key = edge_key("not-the-platform-secret")
    cases = {
        "wrong key": sign_edge(wrong_key, "GET", SITE_PATH.encode(), "jtj", "203.0.113.5").decode(),
        "other path": sign_edge(key, "GET", b"/api/content/v1/columns", "jtj", "203.0.113.5").decode(),
        "stale": stale_edge(key, "GET", SITE_PATH, "jtj", "203.0.113.5", age=600),
        "garbage": "v1.abc.def",
    }
    for case, edge in cases.items():
        resp = httpx.get(
            f"{content}{SITE_PATH}",
            headers={"x-jiyue-site": "jtj", "x-jiyue-client-ip": "203.0.113.5", "x-jiyue-edge": edge},
            timeout=10,
        )
        assert resp.status_code in (400, 403), (case, resp.status_code, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json"), case

    # The gateway's own signature is believed, and the gateway still serves the site.
    signed = sign_edge(key, "GET", SITE_PATH.encode(), "jtj", "203.0.113.5").decode()
    ok = httpx.get(
        f"{content}{SITE_PATH}",
        headers={"x-jiyue-site": "jtj", "x-jiyue-client-ip": "203.0.113.5", "x-jiyue-edge": signed},
        timeout=10,
    )
    assert ok.status_code == 200, ok.text
    deadline = time.monotonic() + 30
    via = httpx.get(f"{split.gateway_url}/sites/jtj{SITE_PATH}", timeout=10)
    while via.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        via = httpx.get(f"{split.gateway_url}/sites/jtj{SITE_PATH}", timeout=10)
    assert via.status_code == 200, via.text
    # The gateway strips a client's copies of the context headers and sets its own.
    tricked = httpx.get(
        f"{split.gateway_url}/sites/jtj{SITE_PATH}",
        headers={"x-jiyue-edge": "v1.1.forged", "x-jiyue-site": "other"},
        timeout=10,
    )
    assert tricked.status_code == 200, tricked.text
