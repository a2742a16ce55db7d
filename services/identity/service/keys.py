"""Signing keys: ES256, encrypted at rest, rotated, published in the JWKS until unused."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jose import jwk, jwt
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import SigningKey
from services.identity.service import audit
from services.identity.service.common import Actor, now
from services.identity.settings import IdentitySettings
from services.kernel.runtime import check_secret, read_or_create_secret

ALG = "ES256"
# The kid names the key and the row; AES-GCM binds the ciphertext to it, so a ciphertext
# copied onto another row does not decrypt.
_AAD_PREFIX = b"jiyue-identity-signing-key:"


class KeyRing:
    """The key-encryption key and the decrypted private keys this process has used."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        configured = settings.identity_key_encryption_key
        # Checked here, at start, so a copied example key stops the service before any key is sealed.
        self._kek = check_secret(configured, "JIYUE_IDENTITY_KEY_ENCRYPTION_KEY") if configured else None
        self._aead: AESGCM | None = None
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}

    @property
    def aead(self) -> AESGCM:
        if self._aead is None:
            secret = self._kek or read_or_create_secret(self.settings, "identity-kek")
            self._aead = AESGCM(hashlib.sha256(secret.encode()).digest())
        return self._aead

    def encrypt(self, kid: str, pem: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self.aead.encrypt(nonce, pem, _AAD_PREFIX + kid.encode())
        return base64.b64encode(nonce + sealed).decode()

    def decrypt(self, kid: str, blob: str) -> bytes:
        raw = base64.b64decode(blob)
        return self.aead.decrypt(raw[:12], raw[12:], _AAD_PREFIX + kid.encode())

    def private_key(self, row: SigningKey) -> ec.EllipticCurvePrivateKey:
        key = self._private.get(row.kid)
        if key is None:
            loaded = serialization.load_pem_private_key(
                self.decrypt(row.kid, row.private_key_encrypted), password=None
            )
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            key = loaded
            self._private[row.kid] = key
        return key


def _public_jwk(kid: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    data = jwk.construct(pem, algorithm=ALG).to_dict()
    out = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()}
    out.update({"kid": kid, "alg": ALG, "use": "sig"})
    return out


async def create_key(session: AsyncSession, ring: KeyRing) -> SigningKey:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = f"{int(now())}-{uuid.uuid4().hex[:8]}"
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    row = SigningKey(
        kid=kid,
        alg=ALG,
        private_key_encrypted=ring.encrypt(kid, pem),
        public_jwk=_public_jwk(kid, key),
        status="active",
        created_at=now(),
    )
    session.add(row)
    await session.flush()
    return row


async def active_key(session: AsyncSession) -> SigningKey | None:
    stmt = (
        select(SigningKey)
        .where(col(SigningKey.status) == "active")
        .order_by(col(SigningKey.id).desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalars().first()


async def ensure_key(session: AsyncSession, ring: KeyRing) -> SigningKey:
    return await active_key(session) or await create_key(session, ring)


async def sign(session: AsyncSession, ring: KeyRing, claims: dict[str, Any]) -> str:
    row = await ensure_key(session, ring)
    return jwt.encode(claims, ring.private_key(row), algorithm=ALG, headers={"kid": row.kid})


async def published_keys(session: AsyncSession, at: float | None = None) -> list[SigningKey]:
    """The active key and every retired key some unexpired token may still carry."""
    at = now() if at is None else at
    stmt = (
        select(SigningKey)
        .where(
            or_(
                col(SigningKey.status) == "active",
                col(SigningKey.retire_after) > at,
            )
        )
        .order_by(col(SigningKey.id).desc())
    )
    return list((await session.execute(stmt)).scalars().all())


async def jwks(session: AsyncSession, at: float | None = None) -> dict[str, Any]:
    return {"keys": [row.public_jwk for row in await published_keys(session, at)]}


async def rotate(session: AsyncSession, ring: KeyRing) -> tuple[SigningKey, list[str]]:
    """A new active key; the old one keeps verifying until the last token it signed expires."""
    settings = ring.settings
    lifetime = max(settings.access_token_ttl_seconds, settings.id_token_ttl_seconds)
    at = now()
    retired: list[str] = []
    rows = (
        (await session.execute(select(SigningKey).where(col(SigningKey.status) == "active"))).scalars().all()
    )
    for row in rows:
        row.status = "retired"
        row.retired_at = at
        row.retire_after = at + lifetime + 60  # a minute of clock skew between services
        retired.append(row.kid)
    new = await create_key(session, ring)
    return new, retired


async def prune(session: AsyncSession, at: float | None = None) -> int:
    """Delete retired keys no unexpired token can carry any more."""
    at = now() if at is None else at
    result = await session.execute(
        delete(SigningKey).where(
            col(SigningKey.status) == "retired",
            col(SigningKey.retire_after) <= at,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def rotate_recorded(
    session: AsyncSession, ring: KeyRing, actor: Actor | str
) -> tuple[str, list[str], int]:
    """Prune, rotate and write the audit row: what both the API and the CLI do."""
    pruned = await prune(session)
    new, retired = await rotate(session, ring)
    await audit.record(session, actor, "key.rotated", new.kid, {"retired": retired, "pruned": pruned})
    return new.kid, retired, pruned
