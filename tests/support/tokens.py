"""A stand-in issuer for service tests that should not depend on the identity service.

It signs real ES256 tokens with its own key and hands services a verifier that trusts that
key; identity's own tests and the platform tests use the real identity service instead.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt

from services.kernel.auth import TokenVerifier

ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "jiyue"


class TestIssuer:
    __test__ = False

    def __init__(self, kid: str = "test-key-1") -> None:
        self.kid = kid
        key = ec.generate_private_key(ec.SECP256R1())
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_jwk = jwk.construct(public_pem, algorithm="ES256").to_dict()
        self.public_jwk.update({"kid": kid, "alg": "ES256", "use": "sig"})
        self.public_jwk = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in self.public_jwk.items()}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    def token(
        self,
        sub: str = "u1",
        roles: list[tuple[str, str | None]] | None = None,
        scope: str = "",
        *,
        kind: str = "user",
        ttl: int = 300,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "kind": kind,
            "name": sub,
            "scope": scope,
            "roles": [{"role": r, "site": s} for r, s in (roles or [])],
            **claims,
        }
        return jwt.encode(body, self.private_pem, algorithm="ES256", headers={"kid": self.kid})

    def headers(self, *args: Any, site: str | None = None, **kw: Any) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token(*args, **kw)}"}
        if site:
            out["X-Jiyue-Site"] = site
        return out

    def verifier(self, also: TokenVerifier | None = None) -> TokenVerifier:
        """A verifier for this issuer's tokens and, with `also`, for the platform's own too.

        A served platform's services call each other with identity's internal token; a test that
        swaps a service's verifier for the test issuer's alone would refuse them (and its feed
        consumers would retry 401s for the whole test)."""

        async def fetch() -> dict[str, Any]:
            if also is None:
                return self.jwks()
            return {"keys": [*self.jwks()["keys"], *(await also.jwks_source())["keys"]]}

        return TokenVerifier(fetch, issuer=ISSUER, audience=AUDIENCE)
