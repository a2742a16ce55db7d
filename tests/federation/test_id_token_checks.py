"""The city's checks of a trusted issuer's ID token, one refusal at a time, and the guarded
outbound client's refusal of an issuer on the local network that the operator did not allow.
The province's network is a stub here (discovery and JWKS); the two-platform test is
test_identity_federation.py."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from services.identity.service.federation_client import FederationClient, FederationFailure, IssuerClient
from services.identity.settings import IdentitySettings
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
from tests.support.tokens import TestIssuer

PROVINCE = "http://127.0.0.2:8443"
CLIENT = IssuerClient(PROVINCE, "city-platform", None)


def _json_answer(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, stream=httpx.ByteStream(json.dumps(body).encode()))


def _federation_client(issuer: TestIssuer, *, allow: str = "127.0.0.0/8") -> FederationClient:
    """A city's client of the province whose network is a stub answering discovery and JWKS."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            base = f"{PROVINCE}/api/identity/v1"
            return _json_answer(
                {
                    "issuer": PROVINCE,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "userinfo_endpoint": f"{base}/userinfo",
                    "jwks_uri": f"{PROVINCE}/.well-known/jwks.json",
                }
            )
        if request.url.path == "/.well-known/jwks.json":
            return _json_answer(issuer.jwks())
        return httpx.Response(404)

    client = FederationClient(IdentitySettings(identity_outbound_allow=allow))
    client.outbound = OutboundClient(
        OutboundPolicy(allow=parse_allow(allow), deadline_seconds=5), inner=httpx.MockTransport(answer)
    )
    return client


def _id_token(issuer: TestIssuer, **claims: Any) -> str:
    body: dict[str, Any] = {"iss": PROVINCE, "aud": CLIENT.client_id, "nonce": "n-1", "token_use": "id"}
    body.update(claims)
    return issuer.token("42", **body)


async def test_the_id_token_is_accepted_only_when_every_check_holds() -> None:
    province = TestIssuer(kid="prov-1")
    client = _federation_client(province)
    good = await client.verify_id_token(CLIENT, _id_token(province), "n-1")
    assert good["sub"] == "42"

    forger = TestIssuer(kid="prov-1")  # the province's kid, another key
    refusals = {
        "forged signature": (_id_token(forger), "n-1"),
        "foreign issuer": (_id_token(province, iss="http://127.0.0.9:1"), "n-1"),
        "another client's": (_id_token(province, aud="someone-else"), "n-1"),
        "another azp": (_id_token(province, azp="someone-else"), "n-1"),
        "an access token": (_id_token(province, token_use="access"), "n-1"),
        "another sign-in's nonce": (_id_token(province), "n-2"),
        "expired": (_id_token(province, exp=1, iat=0), "n-1"),
        "unknown kid": (_id_token(TestIssuer(kid="elsewhere")), "n-1"),
        "unsigned": (_unsigned(_id_token(province)), "n-1"),
    }
    for what, (token, nonce) in refusals.items():
        with pytest.raises(FederationFailure):
            await client.verify_id_token(CLIENT, token, nonce)
            pytest.fail(f"accepted: {what}")
    await client.aclose()


def _unsigned(token: str) -> str:
    _, body, _ = token.split(".")
    none = base64.urlsafe_b64encode(b'{"alg":"none","kid":"prov-1"}').rstrip(b"=").decode()
    return f"{none}.{body}."


async def test_an_issuer_on_the_local_network_needs_the_operators_allow_list() -> None:
    client = _federation_client(TestIssuer(kid="prov-1"), allow="")
    with pytest.raises(FederationFailure) as refused:
        await client.metadata(PROVINCE)
    assert "refused range" in refused.value.reason and refused.value.unreachable
    await client.aclose()
    allowed = _federation_client(TestIssuer(kid="prov-1"))
    assert (await allowed.metadata(PROVINCE)).token_endpoint == f"{PROVINCE}/api/identity/v1/token"
    await allowed.aclose()
