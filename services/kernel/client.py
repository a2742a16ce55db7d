"""Service-to-service HTTP.

All-in-one mode hands each service an httpx client whose transport calls the other service's
ASGI app directly (no socket); split mode gives it a client with the service's base URL. The
calling code is the same either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import Any

import httpx

from services.kernel.errors import ServiceUnavailable

INTERNAL_CLIENT_ID = "jiyue-internal"
INTERNAL_SCOPES = "changes:read internal"
# The operator dashboard signs people in as this first-party OIDC client (authorization code +
# PKCE); identity registers it at start with this callback under the platform's public URL.
DASHBOARD_CLIENT_ID = "jiyue-dashboard"
DASHBOARD_CALLBACK_PATH = "/api/oversight/v1/dashboard/callback"


class InternalAuth(httpx.Auth):
    """Client-credentials token for platform-internal calls, fetched from identity and cached."""

    requires_response_body = True

    def __init__(self, directory: ServiceDirectory, secret: str) -> None:
        self.directory = directory
        self.secret = secret
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.time() < self._expires - 30:
                return self._token
            client = self.directory.raw("identity")
            resp = await client.post(
                "/api/identity/v1/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": INTERNAL_CLIENT_ID,
                    "client_secret": self.secret,
                    "scope": INTERNAL_SCOPES,
                },
            )
            if resp.status_code != 200:
                raise ServiceUnavailable(f"内部令牌获取失败: identity 返回 {resp.status_code}")
            body = resp.json()
            self._token = body["access_token"]
            self._expires = time.time() + float(body.get("expires_in", 300))
            return self._token

    def invalidate(self) -> None:
        self._token = None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("InternalAuth is async only")

    async def async_auth_flow(self, request: httpx.Request):  # type: ignore[override]
        request.headers["Authorization"] = f"Bearer {await self.token()}"
        response = yield request
        if response.status_code == 401:
            self.invalidate()
            request.headers["Authorization"] = f"Bearer {await self.token()}"
            yield request


class ServiceDirectory:
    """Where each service is: an in-process ASGI app or a base URL."""

    def __init__(self, internal_secret: str = "", timeout: float = 10.0) -> None:
        self._apps: dict[str, Any] = {}
        self._urls: dict[str, str] = {}
        self._raw: dict[str, httpx.AsyncClient] = {}
        self._authed: dict[str, httpx.AsyncClient] = {}
        self.timeout = timeout
        self.auth = InternalAuth(self, internal_secret)

    def register_app(self, name: str, app: Any) -> None:
        self._apps[name] = app

    def register_url(self, name: str, url: str) -> None:
        self._urls[name] = url.rstrip("/")

    def knows(self, name: str) -> bool:
        return name in self._apps or name in self._urls

    def is_local(self, name: str) -> bool:
        return name in self._apps

    def local_app(self, name: str) -> Any:
        """The in-process app of a service, or None when it is reached over HTTP."""
        return self._apps.get(name)

    def _make(self, name: str, auth: httpx.Auth | None) -> httpx.AsyncClient:
        if name in self._apps:
            transport = httpx.ASGITransport(app=self._apps[name])
            return httpx.AsyncClient(
                transport=transport,
                base_url=f"http://{name}.internal",
                auth=auth,
                timeout=self.timeout,
            )
        if name in self._urls:
            return httpx.AsyncClient(base_url=self._urls[name], auth=auth, timeout=self.timeout)
        raise ServiceUnavailable(f"未配置服务 {name} 的地址")

    def raw(self, name: str) -> httpx.AsyncClient:
        """A client without credentials (public endpoints, the token endpoint itself)."""
        if name not in self._raw:
            self._raw[name] = self._make(name, None)
        return self._raw[name]

    def client(self, name: str) -> httpx.AsyncClient:
        """A client that authenticates as the platform's internal machine client."""
        if name not in self._authed:
            self._authed[name] = self._make(name, self.auth)
        return self._authed[name]

    async def aclose(self) -> None:
        for c in [*self._raw.values(), *self._authed.values()]:
            await c.aclose()
        self._raw.clear()
        self._authed.clear()
