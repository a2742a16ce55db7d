"""Two complete platforms on loopback — a province and a city — each with its own data folder,
its own port and its own identity (issuer = its own URL), served through its gateway.

`Platform` keeps its data folder and port, so it can be stopped and started again where its
peer expects it (catching up after an outage). Use from an async test:

    async with TwoPlatforms.start(tmp_path) as (province, city):
        admin = await province.admin()
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from gateway import migrate
from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from tests.gateway.servers import closed_port, on_server, serving
from tests.identity.helpers import FAST_ARGON2, bearer, user_token

ADMIN_PASSWORD = "Fed-Admin-" + secrets.token_hex(6)
CONTENT = "/api/content/v1"
FEDERATION = "/api/federation/v1"
START_TIMEOUT = 240.0  # every service's start-up, twice, on a shared machine


def platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What both platforms share: fast hashing, a known admin password, quick feeds, and the
    operator's allow-list that lets the guarded client reach a peer on loopback."""
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JIYUE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("JIYUE_FEED_POLL_SECONDS", "0.3")
    monkeypatch.setenv("JIYUE_FEED_RETRY_BASE_SECONDS", "0.2")
    monkeypatch.setenv("JIYUE_FEDERATION_PEER_ALLOW", "127.0.0.0/8")
    monkeypatch.setenv("JIYUE_FEDERATION_PEER_REFRESH_SECONDS", "0.5")
    monkeypatch.setenv("JIYUE_FEDERATION_LAG_WARN_SECONDS", "3")


@dataclass
class Platform:
    name: str
    data_dir: Path
    port: int
    app: Any = None
    _served: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.app is not None

    def settings(self) -> GatewaySettings:
        return GatewaySettings(data_dir=self.data_dir, public_url=self.url, gateway_rate_limits=False)

    async def start(self) -> None:
        settings = self.settings()
        await migrate.migrate(data_dir=settings.data_dir, public_url=settings.public_url)
        self.app = create_gateway(settings)
        self._served.enter_context(serving(self.app, port=self.port, start_timeout=START_TIMEOUT))

    def stop(self) -> None:
        self._served.close()
        self._served = contextlib.ExitStack()
        self.app = None

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=60)

    async def admin(self) -> dict[str, str]:
        """The bootstrap system administrator, signed in through this platform's gateway."""
        if "admin" not in self._tokens:
            async with self.client() as c:
                self._tokens["admin"] = bearer(await user_token(c, "admin", ADMIN_PASSWORD))
        return self._tokens["admin"]

    async def person(self, username: str, roles: list[tuple[str, str | None]]) -> dict[str, str]:
        """A staff account with these role bindings (made once), signed in through the gateway.
        Binding roles is the security administrator's (三员分立): the platform's own internal
        client does it, in-process on the loop that serves this platform."""
        if username not in self._tokens:
            password = "Aa1-" + secrets.token_urlsafe(12)
            identity = self.app.gateway.directory.client("identity")

            async def make() -> None:
                body = {"username": username, "display_name": username, "password": password}
                made = check(await identity.post("/api/identity/v1/users", json=body), 201)
                for role, site in roles:
                    bound = await identity.post(
                        f"/api/identity/v1/users/{made['id']}/roles", json={"role": role, "site": site}
                    )
                    check(bound, 201)

            await asyncio.to_thread(on_server, self.port, make())
            async with self.client() as c:
                self._tokens[username] = bearer(await user_token(c, username, password))
        return self._tokens[username]


class TwoPlatforms:
    @staticmethod
    @contextlib.asynccontextmanager
    async def start(tmp_path: Path) -> AsyncIterator[tuple[Platform, Platform]]:
        province = Platform("province", tmp_path / "province", closed_port())
        city = Platform("city", tmp_path / "city", closed_port())
        try:
            await province.start()
            await city.start()
            yield province, city
        finally:
            for p in (city, province):
                if p.running:
                    p.stop()


class Side(Protocol):
    """One platform as the flows use it: its gateway, its administrator, staff accounts."""

    name: str

    @property
    def url(self) -> str: ...

    def client(self) -> httpx.AsyncClient: ...

    async def admin(self) -> dict[str, str]: ...

    async def person(self, username: str, roles: list[tuple[str, str | None]]) -> dict[str, str]: ...


def check(resp: httpx.Response, *ok: int) -> Any:
    assert resp.status_code in ok, (
        f"{resp.request.method} {resp.request.url} → {resp.status_code} {resp.text}"
    )
    return resp.json() if resp.content else None


async def make_site(p: Side, code: str, name: str, id_code: str, kind: str = "portal", **extra: Any) -> None:
    admin = await p.admin()
    async with p.client() as c:
        body = {
            "code": code,
            "name": name,
            "kind": kind,
            "domains": [f"{code}.{p.name}.gov.cn"],
            "id_code": id_code,
        }
        check(await c.post(f"{CONTENT}/sites", json={**body, **extra}, headers=admin), 201)
        check(await c.post(f"{CONTENT}/sites/{code}/status", json={"status": "online"}, headers=admin), 200)


async def make_column(p: Side, site: str, name: str) -> int:
    async with p.client() as c:
        body = {"name": name, "review_chain": ["reviewer"]}
        made = check(await c.post(f"{CONTENT}/sites/{site}/columns", json=body, headers=await p.admin()), 201)
    return int(made["id"])


async def publish(p: Side, site: str, column: int, title: str, *, important: bool) -> int:
    """Write, store, place, review and publish one item on `site`; its publication id."""
    editor = await p.person(f"{site}_editor", [("editor", site)])
    reviewer = await p.person(f"{site}_reviewer", [("reviewer", site)])
    async with p.client() as c:
        body = {
            "metadata": {
                "title": title,
                "issuer_org": {"code": site, "name": f"{site}办公厅"},
                "genre": "tongzhi",
            },
            "body_html": f"<p>{title}。请各地认真贯彻落实。</p>",
            "scope": "platform",
        }
        made = check(
            await c.post(f"/sites/{site}/api/resources/v1/resources", json=body, headers=editor), 201
        )
        stored = check(
            await c.post(f"/sites/{site}/api/resources/v1/resources/{made['id']}/store", headers=editor), 200
        )
        placed = {
            "column_id": column,
            "resource_id": made["id"],
            "resource_version": stored["version"],
            "important": important,
        }
        pid = int(
            check(await c.post(f"{CONTENT}/sites/{site}/publications", json=placed, headers=editor), 201)[
                "id"
            ]
        )
        ok = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
        check(
            await c.post(f"{CONTENT}/publications/{pid}/submit", json={"opinion": "请审核"}, headers=editor),
            200,
        )
        check(await c.post(f"{CONTENT}/publications/{pid}/approve", json=ok, headers=reviewer), 200)
        check(await c.post(f"{CONTENT}/publications/{pid}/publish", json={}, headers=editor), 200)
    return pid


async def link(province: Side, city: Side) -> dict[str, Any]:
    """Register each platform as the other's peer and hand each the credentials the other issued:
    the city reads the province's public feed, the province the city's site registry (and may push
    re-publication tasks to the city's sites); each reads the annual reports (and reviews)
    addressed to it."""
    async with province.client() as pc, city.client() as cc:
        at_province = check(
            await pc.post(
                f"{FEDERATION}/peers",
                json={"code": "city", "name": "示范市", "base_url": city.url, "issuer": city.url,
                      "scopes": ["peer:feed", "peer:reports"], "follow": ["registry", "reports"]},
                headers=await province.admin(),
            ),
            201,
        )  # fmt: skip
        at_city = check(
            await cc.post(
                f"{FEDERATION}/peers",
                json={"code": "province", "name": "示范省", "base_url": province.url, "issuer": province.url,
                      "remote_client_id": at_province["local_client_id"],
                      "remote_client_secret": at_province["local_client_secret"],
                      "scopes": ["peer:registry", "peer:reports", "peer:tasks"], "follow": ["feed", "reports"]},
                headers=await city.admin(),
            ),
            201,
        )  # fmt: skip
        check(
            await pc.patch(
                f"{FEDERATION}/peers/city",
                json={"remote_client_id": at_city["local_client_id"], "remote_client_secret": at_city["local_client_secret"]},
                headers=await province.admin(),
            ),
            200,
        )  # fmt: skip
    return {"at_province": at_province, "at_city": at_city}
