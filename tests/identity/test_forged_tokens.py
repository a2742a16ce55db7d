"""Every service rejects forged, expired and misaddressed tokens, and accepts a good one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt

from services.identity.service import keys
from services.identity.service.runtime import IdentityRuntime
from tests.identity.helpers import API, bearer, internal_token
from tests.support.platform import Platform

CHANGE_FEEDS = [
    "/api/content/v1/changes",
    "/api/resources/v1/changes",
    "/api/search/v1/changes",
    "/api/identity/v1/changes",
    f"{API}/userinfo",
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(platform: Platform, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "iss": platform.settings.issuer,
        "aud": "jiyue",
        "sub": "jiyue-internal",
        "kind": "client",
        "scope": "changes:read internal",
        "client_id": "jiyue-internal",
        "token_use": "access",
        "roles": [{"role": "platform_admin", "site": None}],
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    body.update(overrides)
    return body


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


async def _identity_key(platform: Platform) -> tuple[str, Any, dict[str, Any]]:
    """The real active signing key (kid, private key, public JWK), read as identity reads it."""
    app = platform.gateway.local_apps["identity"]
    ctx = app.state.ctx
    async with ctx.db.session() as session:
        row = await keys.active_key(session)
        assert row is not None
        return row.kid, ctx.state_of(IdentityRuntime).keys.private_key(row), dict(row.public_jwk)


def _forgeries(platform: Platform, kid: str, private: Any, public_jwk: dict[str, Any]) -> dict[str, str]:
    public_pem = jwk.construct(public_jwk, algorithm="ES256").public_key().to_pem().decode()
    stranger = ec.generate_private_key(ec.SECP256R1())
    out: dict[str, str] = {}
    none_header = {"alg": "none", "kid": kid, "typ": "JWT"}
    out["alg-none"] = (
        f"{_b64(json.dumps(none_header).encode())}.{_b64(json.dumps(_claims(platform)).encode())}."
    )
    hs_header = {"alg": "HS256", "kid": kid, "typ": "JWT"}
    out["hs256-public-pem"] = _hs256(hs_header, _claims(platform), public_pem.encode())
    out["hs256-public-jwk"] = _hs256(hs_header, _claims(platform), json.dumps(public_jwk).encode())
    sign: Callable[..., str] = lambda claims, key=private, k=kid: jwt.encode(  # noqa: E731
        claims, key, algorithm="ES256", headers={"kid": k}
    )
    past = int(time.time()) - 3600
    out["expired"] = sign(_claims(platform, iat=past, exp=past + 600))
    out["wrong-aud"] = sign(_claims(platform, aud="some-other-platform"))
    out["wrong-iss"] = sign(_claims(platform, iss="https://evil.example"))
    stranger_pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    out["unknown-kid"] = sign(_claims(platform), stranger_pem, "no-such-kid")
    out["known-kid-foreign-key"] = sign(_claims(platform), stranger_pem, kid)
    return out


async def test_every_service_rejects_forged_tokens_and_accepts_a_real_one(platform: Platform) -> None:
    good = await internal_token(platform.client, platform.settings)
    for path in CHANGE_FEEDS:
        ok = await platform.client.get(path, headers=bearer(good))
        assert ok.status_code == 200, f"{path} refused a genuine token: {ok.status_code} {ok.text[:200]}"

    kid, private, public_jwk = await _identity_key(platform)
    # The same key signing genuine claims is accepted: the forgeries below fail for their flaw alone.
    control = jwt.encode(_claims(platform), private, algorithm="ES256", headers={"kid": kid})
    assert (await platform.client.get(CHANGE_FEEDS[0], headers=bearer(control))).status_code == 200

    forgeries = _forgeries(platform, kid, private, public_jwk)
    for name, forged in forgeries.items():
        for path in CHANGE_FEEDS:
            resp = await platform.client.get(path, headers=bearer(forged))
            assert resp.status_code == 401, (
                f"gateway let a {name} token through to {path}: {resp.status_code}"
            )
            assert resp.headers["content-type"].startswith("application/problem+json")

    # The gateway checks tokens too; each service must also refuse them on its own, as it
    # does when reached directly (split deployment, or a hole in the gateway).
    for service, app in platform.gateway.local_apps.items():
        path = f"/api/{service}/v1/changes"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as direct:
            assert (await direct.get(path, headers=bearer(good))).status_code == 200, service
            for name, forged in forgeries.items():
                resp = await direct.get(path, headers=bearer(forged))
                assert resp.status_code == 401, (
                    f"{service} accepted a {name} token directly: {resp.status_code}"
                )


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Bearer not.a.jwt"])
async def test_malformed_authorization_is_401(platform: Platform, header: str) -> None:
    resp = await platform.client.get("/api/content/v1/changes", headers={"Authorization": header})
    assert resp.status_code == 401
