"""This platform as an OIDC client of a trusted issuer: discovery, keys, code redemption,
userinfo and the ID token's verification.

Every request goes through the kernel's guarded outbound client (the operator registers the
issuer URL, and the issuer's discovery document names the other endpoints: neither may aim
the platform at its own network unless allow-listed). The ID token is checked the way OIDC
Core 3.1.3.7 says: signature by a key of the issuer's JWKS (ES256/RS256 only, `kid` required),
`iss` exactly the trusted issuer, `aud` our client, `azp` if present our client, `exp`/`iat`,
the `nonce` of this very sign-in and `at_hash` against the access token it came with.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from jose import jwk, jwt
from jose.exceptions import JOSEError

from services.identity.settings import IdentitySettings
from services.kernel.outbound import OutboundClient, OutboundError, OutboundPolicy, parse_allow

ALLOWED_ALGORITHMS = ("ES256", "RS256")
_KTY_FOR_ALG = {"ES256": "EC", "RS256": "RSA"}
UNREACHABLE = "省级平台暂时无法访问，请稍后再试"


class FederationFailure(Exception):
    """A sign-in at a trusted issuer that cannot be accepted; `reason` goes to the audit log,
    `message` to the person."""

    def __init__(
        self, reason: str, message: str = "省级平台登录未能完成，请重新登录", *, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.unreachable = unreachable  # the issuer did not answer (502), not a refusal (400)


@dataclass(frozen=True)
class Metadata:
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class IssuerClient:
    """What the callback needs of a trusted issuer (decrypted secret included)."""

    issuer: str
    client_id: str
    client_secret: str | None


@dataclass(frozen=True)
class Redeemed:
    claims: dict[str, Any]  # the verified ID token
    userinfo: dict[str, Any]


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise FederationFailure(f"{what}: not JSON") from exc
    if not isinstance(data, dict):
        raise FederationFailure(f"{what}: not a JSON object")
    return data


def _endpoint(url: object) -> str:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise FederationFailure(f"discovery names a bad endpoint: {url!r}")
    return url


class FederationClient:
    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self.outbound = OutboundClient(
            OutboundPolicy(
                allow=parse_allow(settings.identity_outbound_allow),
                deadline_seconds=settings.identity_federation_deadline_seconds,
            )
        )
        self._metadata: dict[str, tuple[float, Metadata]] = {}
        self._keys: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.outbound.aclose()

    async def _get(self, url: str, what: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            resp = await self.outbound.request(
                "GET", url, headers={"Accept": "application/json", **(headers or {})}
            )
        except OutboundError as exc:
            raise FederationFailure(f"{what}: {exc}", UNREACHABLE, unreachable=True) from exc
        if resp.status_code != 200:
            raise FederationFailure(f"{what}: HTTP {resp.status_code}", UNREACHABLE, unreachable=True)
        return _json(resp.body, what)

    async def metadata(self, issuer: str) -> Metadata:
        cached = self._metadata.get(issuer)
        if cached and time.monotonic() - cached[0] < self.settings.identity_federation_metadata_seconds:
            return cached[1]
        doc = await self._get(f"{issuer}/.well-known/openid-configuration", "discovery")
        if doc.get("issuer") != issuer:  # OIDC Discovery 4.3: a mismatch is refused
            raise FederationFailure(f"discovery names issuer {doc.get('issuer')!r}, not {issuer!r}")
        meta = Metadata(
            authorization_endpoint=_endpoint(doc.get("authorization_endpoint")),
            token_endpoint=_endpoint(doc.get("token_endpoint")),
            userinfo_endpoint=_endpoint(doc.get("userinfo_endpoint")),
            jwks_uri=_endpoint(doc.get("jwks_uri")),
        )
        self._metadata[issuer] = (time.monotonic(), meta)
        return meta

    async def _key(self, issuer: str, kid: str) -> dict[str, Any] | None:
        async with self._lock:
            cached = self._keys.get(issuer)
            age = time.monotonic() - cached[0] if cached else None
            stale = age is None or age >= self.settings.identity_federation_metadata_seconds
            unknown = cached is not None and kid not in cached[1]
            if stale or (
                unknown and age is not None and age >= self.settings.identity_federation_refetch_seconds
            ):
                meta = await self.metadata(issuer)
                data = await self._get(meta.jwks_uri, "jwks")
                keys = {str(k["kid"]): k for k in data.get("keys", []) if isinstance(k, dict) and "kid" in k}
                cached = (time.monotonic(), keys)
                self._keys[issuer] = cached
            return cached[1].get(kid) if cached else None

    def authorize_url(
        self, meta: Metadata, client: IssuerClient, redirect_uri: str, state: str, nonce: str, challenge: str
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        sep = "&" if "?" in meta.authorization_endpoint else "?"
        return f"{meta.authorization_endpoint}{sep}{query}"

    async def redeem(
        self, client: IssuerClient, code: str, redirect_uri: str, verifier: str, nonce: str
    ) -> Redeemed:
        meta = await self.metadata(client.issuer)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": client.client_id,
        }
        if client.client_secret:
            form["client_secret"] = client.client_secret
        try:
            resp = await self.outbound.request(
                "POST",
                meta.token_endpoint,
                content=urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
        except OutboundError as exc:
            raise FederationFailure(f"token: {exc}", UNREACHABLE, unreachable=True) from exc
        body = _json(resp.body, "token")
        if resp.status_code != 200:
            raise FederationFailure(f"token: HTTP {resp.status_code} {body.get('error', '')}")
        access, id_token = body.get("access_token"), body.get("id_token")
        if not isinstance(access, str) or not isinstance(id_token, str):
            raise FederationFailure("token: no access_token or id_token")
        claims = await self.verify_id_token(client, id_token, nonce, access)
        info = await self._get(meta.userinfo_endpoint, "userinfo", {"Authorization": f"Bearer {access}"})
        if info.get("sub") != claims["sub"]:  # OIDC Core 5.3.2
            raise FederationFailure("userinfo sub differs from the ID token's")
        return Redeemed(claims, info)

    async def verify_id_token(
        self, client: IssuerClient, token: str, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise FederationFailure("id_token: malformed") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise FederationFailure(f"id_token: algorithm {alg!r} refused")
        if not isinstance(kid, str) or not kid:
            raise FederationFailure("id_token: no kid")
        key = await self._key(client.issuer, kid)
        if key is None:
            raise FederationFailure(f"id_token: kid {kid!r} is not in the issuer's JWKS")
        if key.get("kty") != _KTY_FOR_ALG[alg] or key.get("alg", alg) != alg:
            raise FederationFailure("id_token: algorithm does not match the key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                jwk.construct(key, algorithm=alg),
                algorithms=[alg],
                audience=client.client_id,
                issuer=client.issuer,
                access_token=access_token,
                options={"require_exp": True, "require_iat": True, "require_sub": True},
            )
        except JOSEError as exc:
            raise FederationFailure(f"id_token: {exc}") from exc
        if claims.get("azp", client.client_id) != client.client_id:
            raise FederationFailure("id_token: azp is another client")
        if claims.get("token_use", "id") != "id":
            raise FederationFailure("id_token: not an ID token")
        if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise FederationFailure("id_token: nonce does not match this sign-in")
        return claims
