"""What the gateway stops or adds before a service sees a request: tokens, CORS, headers, logs."""

from __future__ import annotations

import json
import logging

import pytest

from tests.gateway.fakes import ContentState, rig
from tests.support.tokens import TestIssuer


def one_site() -> ContentState:
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    state.add_site("portal", ["www.example.gov.cn"])
    return state


async def test_bad_tokens_never_reach_a_service(tmp_path, issuer) -> None:
    state = one_site()
    async with rig(tmp_path, issuer, state) as r, r.client() as c:
        forged = TestIssuer(kid=issuer.kid).token("mallory")  # right kid, wrong key
        expired = issuer.token("u1", ttl=-60)
        for token in ("garbage", forged, expired):
            resp = await c.get(
                "/api/content/v1/site",
                headers={"Authorization": f"Bearer {token}", "Host": "jtj.example.gov.cn"},
            )
            assert resp.status_code == 401, token
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert resp.headers["www-authenticate"].startswith("Bearer")
        assert state.calls == 0
        good = await c.get(
            "/api/content/v1/site", headers={**issuer.headers("u1"), "Host": "jtj.example.gov.cn"}
        )
        assert good.status_code == 200 and state.calls == 1


async def test_cors_serves_a_sites_own_domains_only(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site()) as r, r.client() as c:
        preflight = {
            "Origin": "https://jtj.example.gov.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        }
        ok = await c.options("/sites/jtj/api/content/v1/echo", headers=preflight)
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == "https://jtj.example.gov.cn"
        assert "POST" in ok.headers["access-control-allow-methods"]
        other = await c.options(
            "/sites/jtj/api/content/v1/echo", headers={**preflight, "Origin": "https://www.example.gov.cn"}
        )
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
        evil = await c.options(
            "/sites/jtj/api/content/v1/echo", headers={**preflight, "Origin": "https://evil.example.com"}
        )
        assert evil.status_code == 403
        actual = await c.get(
            "/sites/jtj/api/content/v1/site", headers={"Origin": "https://jtj.example.gov.cn"}
        )
        assert actual.headers["access-control-allow-origin"] == "https://jtj.example.gov.cn"
        assert "ETag" in actual.headers["access-control-expose-headers"]
        refused = await c.get(
            "/sites/jtj/api/content/v1/site", headers={"Origin": "https://evil.example.com"}
        )
        assert "access-control-allow-origin" not in refused.headers
        # platform APIs (sign-in, platform search) serve every hosted site's pages
        platform = await c.options(
            "/api/identity/v1/token", headers={**preflight, "Origin": "https://www.example.gov.cn"}
        )
        assert platform.status_code == 204


async def test_security_headers(tmp_path, issuer) -> None:
    async with rig(tmp_path, issuer, one_site()) as r, r.client() as c:
        resp = await c.get("/api/content/v1/site", headers={"Host": "jtj.example.gov.cn"})
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert resp.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in resp.headers
        framed = await c.get("/api/content/v1/framed")
        assert "x-frame-options" not in framed.headers  # the service's own CSP decides
        async with r.client() as tls:
            tls.base_url = "https://localhost"  # type: ignore[misc]
            secure = await tls.get("/healthz")
            assert secure.headers["strict-transport-security"].startswith("max-age=")


async def test_access_log_is_one_json_line_per_request(
    tmp_path, issuer, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep()
    logging.getLogger("jiyue.access").addHandler(handler)
    try:
        async with rig(tmp_path, issuer, one_site()) as r, r.client(address="2001:db8::7") as c:
            resp = await c.get(
                "/api/content/v1/items/5", headers={"Host": "jtj.example.gov.cn", "X-Request-ID": "rid-1"}
            )
            assert resp.status_code == 200
    finally:
        logging.getLogger("jiyue.access").removeHandler(handler)
    record = json.loads(next(line for line in lines if "rid-1" in line))
    assert record["client"] == "2001:db8::7"
    assert record["method"] == "GET" and record["path"] == "/api/content/v1/items/5"
    assert record["status"] == 200 and record["site"] == "jtj" and record["service"] == "content"
    assert record["bytes"] == len(resp.content) and record["ms"] >= 0 and record["ts"]


async def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path, issuer) -> None:
    forwarded = {"X-Forwarded-For": "10.9.9.9, 203.0.113.77"}
    async with rig(tmp_path, issuer, one_site(), gateway_trusted_proxies=["198.51.100.0/24"]) as r:
        async with r.client(address="198.51.100.7") as via_proxy:
            seen = (await via_proxy.get("/api/content/v1/echo", headers=forwarded)).json()
            assert seen["headers"]["x-jiyue-client-ip"] == "203.0.113.77"
        async with r.client(address="192.0.2.99") as direct:
            seen = (await direct.get("/api/content/v1/echo", headers=forwarded)).json()
            assert seen["headers"]["x-jiyue-client-ip"] == "192.0.2.99"
