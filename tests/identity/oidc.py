"""A browser and a relying party for the sign-in tests: the browser keeps cookies and fills in
the server-rendered form; the relying party is Authlib's OAuth 2 client."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.identity.helpers import API, bearer
from tests.support.platform import Platform

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def browser(platform: Platform) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=platform.app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost", follow_redirects=False)


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


async def register_client(
    platform: Platform, admin_token: str, client_id: str, redirect_uri: str, kind: str = "public"
) -> str | None:
    resp = await platform.client.post(
        f"{API}/clients",
        json={
            "client_id": client_id,
            "name": f"{client_id} 网站",
            "kind": kind,
            "redirect_uris": [redirect_uri],
            "grants": ["authorization_code", "refresh_token"],
            "scopes": "openid profile",
        },
        headers=bearer(admin_token),
    )
    assert resp.status_code == 201, resp.text
    secret: str | None = resp.json()["client_secret"]
    return secret


def relying_party(
    platform: Platform, client_id: str, redirect_uri: str, secret: str | None = None
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        redirect_uri=redirect_uri,
        scope="openid profile",
        code_challenge_method="S256",
        transport=httpx.ASGITransport(app=platform.app),
    )


async def sign_in(
    page_client: httpx.AsyncClient, authorize_url: str, username: str, password: str
) -> httpx.Response:
    """Open the sign-in page, submit it as a browser would; the answer (a redirect, or the page)."""
    page = await page_client.get(authorize_url)
    assert page.status_code == 200, page.text[:500]
    form: dict[str, Any] = hidden_fields(page.text)
    form.update(username=username, password=password)
    return await page_client.post(f"{API}/authorize", data=form)
