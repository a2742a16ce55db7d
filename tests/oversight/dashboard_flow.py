"""Signing in to the dashboard the way a browser does, with httpx: the redirects, identity's
form (its CSRF token and hidden fields) and the callback, followed by hand."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

DASHBOARD = "/api/oversight/v1/dashboard"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _local(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def sign_in(
    c: httpx.AsyncClient, username: str, password: str, start: str = DASHBOARD
) -> httpx.Response:
    """From a dashboard page to that page signed in; returns the last answer."""
    resp = await c.get(start)
    for _ in range(6):
        if resp.status_code != 303:
            break
        location = resp.headers["location"]
        if "/api/identity/v1/authorize" in location and "code=" not in location:
            page = await c.get(_local(location))
            if page.status_code == 303:  # identity's single sign-on answered at once
                resp = page
                continue
            assert page.status_code == 200, page.text
            fields = dict(_HIDDEN.findall(page.text))
            fields.update(username=username, password=password)
            resp = await c.post("/api/identity/v1/authorize", data=fields)
            continue
        resp = await c.get(_local(location))
    return resp
