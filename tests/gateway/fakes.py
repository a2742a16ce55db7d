"""Small stand-ins for identity, content and search, so gateway tests need none of them.

They speak the contracts the gateway relies on (docs/contracts.md): JWKS and the token
endpoint, the site registry and change feed, public delivery that answers for the tenant the
gateway named, and a search endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from services.kernel.app import RequestIdMiddleware
from tests.support.tokens import ISSUER, TestIssuer

PASSWORD = "正确的密码"


def fake_identity(issuer: TestIssuer) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return issuer.jwks()

    @app.post("/api/identity/v1/token")
    async def token(
        grant_type: str = Form(),
        username: str = Form(""),
        password: str = Form(""),
        client_id: str = Form(""),
    ) -> JSONResponse:
        if grant_type == "client_credentials":
            body = {"access_token": issuer.token(client_id, scope="changes:read internal", kind="client")}
            return JSONResponse({**body, "expires_in": 300})
        if password != PASSWORD:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse({"access_token": issuer.token(username), "expires_in": 300})

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


@dataclass
class ContentState:
    sites: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # what each site's delivery answers; the gateway's cache must follow changes to it
    titles: dict[str, str] = field(default_factory=dict)
    # items whose answers carry this Cache-Control (e.g. "public, no-cache": ask every time)
    cache_control: dict[int, str] = field(default_factory=dict)
    calls: int = 0

    def emit(self, topic: str, key: str, site: str | None) -> None:
        self.events.append({"cursor": len(self.events) + 1, "topic": topic, "key": key, "site_id": site})

    def add_site(self, code: str, domains: list[str], status: str = "online", **extra: Any) -> None:
        self.sites = [s for s in self.sites if s["code"] != code]
        self.sites.append(
            {"code": code, "name": f"{code} 网站", "status": status, "domains": domains, **extra}
        )
        self.emit("site.updated", code, code)


def fake_content(state: ContentState) -> FastAPI:
    app = FastAPI()

    @app.get("/api/content/v1/site-registry")
    async def registry() -> dict[str, Any]:
        return {"items": state.sites, "cursor": len(state.events)}

    @app.get("/api/content/v1/changes")
    async def changes(after: int = 0, limit: int = 100) -> dict[str, Any]:
        items = [e for e in state.events if e["cursor"] > after][:limit]
        head = len(state.events)
        nxt = items[-1]["cursor"] if items else after
        return {"items": items, "head": head, "next_cursor": nxt, "has_more": nxt < head}

    @app.get("/api/content/v1/site")
    async def site(request: Request) -> dict[str, Any]:
        state.calls += 1
        code = request.headers.get("x-jiyue-site")
        return {"site": code, "title": state.titles.get(code or "", f"{code} 首页")}

    @app.get("/api/content/v1/items/{item_id}")
    async def item(item_id: int, request: Request) -> JSONResponse:
        state.calls += 1
        body = {"id": item_id, "site": request.headers.get("x-jiyue-site")}
        control = state.cache_control.get(item_id)
        return JSONResponse(body, headers={"Cache-Control": control} if control else None)

    @app.api_route("/api/content/v1/echo", methods=["GET", "POST"])
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {
            "headers": dict(request.headers),
            "body": body.decode(),
            "client": request.client.host if request.client else None,
        }

    @app.get("/api/content/v1/framed")
    async def framed() -> JSONResponse:
        return JSONResponse({}, headers={"Content-Security-Policy": "frame-ancestors 'self'"})

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def fake_search() -> FastAPI:
    app = FastAPI()

    @app.get("/api/search/v1/search")
    async def search(request: Request, q: str = "") -> dict[str, Any]:
        return {"total": 1, "items": [{"title": q, "site": request.headers.get("x-jiyue-site")}]}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


# A fixed, strong secret: tests that check the gateway's edge signature derive the same key.
TEST_SECRET = "k3Jq9vZt2XwLr8NbYp4HsUe6GdAf1CmQ0oTiVxRz5Wl"


def settings(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "public_url": ISSUER,
        "internal_client_secret": TEST_SECRET,
        "gateway_feed_poll_seconds": 0.05,
    }
    base.update(overrides)
    return GatewaySettings(**base)


@dataclass
class Rig:
    gateway: Gateway
    app: Any
    content: ContentState
    issuer: TestIssuer

    def client(self, address: str = "198.51.100.7", host: str = "localhost") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")

    async def until(self, check: Any, within: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    issuer: TestIssuer,
    content: ContentState | None = None,
    *,
    search: bool = True,
    remote: dict[str, str] | None = None,
    **overrides: Any,
) -> AsyncIterator[Rig]:
    """The gateway with fake identity, content and search in-process, and `remote` services
    (registry names) reached over HTTP, as JIYUE_GATEWAY_BACKENDS configures them."""
    state = content or ContentState()
    remote = remote or {}
    gateway = Gateway(settings(tmp_path, gateway_backends=remote, **overrides), services=list(remote))
    gateway.add_local("identity", fake_identity(issuer))
    gateway.add_local("content", fake_content(state))
    if search:
        gateway.add_local("search", fake_search())
    app = RequestIdMiddleware(gateway)
    async with gateway.lifespan():
        yield Rig(gateway=gateway, app=app, content=state, issuer=issuer)
