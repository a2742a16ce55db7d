"""The gateway signs the context of every request it forwards; services believe only that."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI, Request

from services.kernel import clock
from services.kernel.deps import client_ip, current_site
from services.kernel.edge import EdgeGuard, edge_key, sign_edge, verify_edge
from tests.gateway.fakes import TEST_SECRET, ContentState, rig

KEY = edge_key(TEST_SECRET)


def one_site() -> ContentState:
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    return state


async def test_every_forwarded_request_carries_a_valid_edge_signature(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site()) as r, r.client(address="203.0.113.44") as c:
        forged = {"x-jiyue-edge": "v1.1.forged", "x-jiyue-site": "portal", "x-jiyue-client-ip": "10.0.0.1"}
        for url, site in (("/sites/jtj/api/content/v1/echo", "jtj"), ("/api/content/v1/echo", "")):
            seen = (await c.post(url, content=b"{}", headers=forged)).json()["headers"]
            assert seen.get("x-jiyue-site", "") == site
            assert seen["x-jiyue-client-ip"] == "203.0.113.44"
            context = verify_edge(
                KEY, seen["x-jiyue-edge"], "POST", b"/api/content/v1/echo", site, "203.0.113.44"
            )
            assert context.client == "203.0.113.44" and context.site == (site or None)


def guarded() -> httpx.AsyncClient:
    app = FastAPI()

    @app.get("/who")
    async def who(request: Request) -> dict[str, str | None]:
        return {"site": current_site(request), "client": client_ip(request)}

    transport = httpx.ASGITransport(app=EdgeGuard(app, KEY), client=("192.0.2.50", 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://content.internal")


async def test_a_service_on_its_own_socket_believes_only_signed_context() -> None:
    async with guarded() as c:
        plain = await c.get("/who")
        assert plain.json() == {"site": None, "client": "192.0.2.50"}
        for forged in ({"x-jiyue-site": "jtj"}, {"x-jiyue-client-ip": "10.1.1.1"}):
            refused = await c.get("/who", headers=forged)
            assert refused.status_code == 403
            assert refused.headers["content-type"].startswith("application/problem+json")
        context = {"x-jiyue-site": "jtj", "x-jiyue-client-ip": "198.51.100.9"}
        edge = sign_edge(KEY, "GET", b"/who", "jtj", "198.51.100.9").decode()
        ok = await c.get("/who", headers={**context, "x-jiyue-edge": edge})
        assert ok.json() == {"site": "jtj", "client": "198.51.100.9"}
        swapped = await c.get("/who", headers={**context, "x-jiyue-site": "portal", "x-jiyue-edge": edge})
        assert swapped.status_code == 403
        other_key = sign_edge(edge_key("other"), "GET", b"/who", "jtj", "198.51.100.9").decode()
        assert (await c.get("/who", headers={**context, "x-jiyue-edge": other_key})).status_code == 403
        assert (await c.get("/who", headers={**context, "x-jiyue-edge": "nonsense"})).status_code == 400
        with clock.travel(timedelta(minutes=5)):
            assert (await c.get("/who", headers={**context, "x-jiyue-edge": edge})).status_code == 403
