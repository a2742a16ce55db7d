"""Tables of the identity service; its own metadata, its own database or schema.

Instants that drive decisions (expiry, lockout) are stored as epoch seconds: they compare the
same way on SQLite and PostgreSQL with no time-zone surprises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

if TYPE_CHECKING:  # mypy sees an ordinary SQLModel base; at runtime it has its own metadata
    Base = SQLModel
else:
    Base = service_base("identity")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)


class Organisation(Base, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    # province | city | district | county | department
    kind: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_at: float


class User(Base, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    # Where the platform writes to the person (inspection warnings; later subscriptions).
    email: str | None = Field(default=None, max_length=254)
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    password_hash: str = Field(max_length=255)
    status: str = Field(default="active", max_length=16)  # active | disabled
    kind: str = Field(default="staff", max_length=16)  # staff | citizen
    failed_count: int = 0
    first_failed_at: float | None = None
    locked_until: float | None = None
    created_at: float
    updated_at: float


class RoleBindingRow(Base, table=True):
    __tablename__ = "role_binding"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=32)
    site: str | None = Field(default=None, max_length=64)  # None: platform-wide
    created_at: float
    created_by: str = Field(max_length=64)


class OAuthClient(Base, table=True):
    __tablename__ = "oauth_client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # public | confidential
    secret_hash: str | None = Field(default=None, max_length=128)
    redirect_uris: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    grants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scopes: str = Field(default="", max_length=500)
    site: str | None = Field(default=None, max_length=64)
    first_party: bool = False
    status: str = Field(default="active", max_length=16)
    created_at: float
    updated_at: float


class SigningKey(Base, table=True):
    __tablename__ = "signing_key"

    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(max_length=64, unique=True)
    alg: str = Field(default="ES256", max_length=16)
    # AES-GCM(nonce || ciphertext) of the PKCS#8 PEM, base64; the key-encryption key is not here.
    private_key_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=16)  # active | retired
    created_at: float
    retired_at: float | None = None
    # A retired key stays in the JWKS until the last token it signed has expired.
    retire_after: float | None = None


class RefreshToken(Base, table=True):
    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    family_id: str = Field(max_length=64, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    client_id: str = Field(max_length=64)
    scope: str = Field(default="", max_length=500)
    created_at: float
    expires_at: float
    # The family's hard end (refresh_family_max_seconds after sign-in): rotation never extends it.
    family_expires_at: float = Field(index=True)
    rotated_at: float | None = None
    revoked_at: float | None = None


class AuthorizationCode(Base, table=True):
    __tablename__ = "authorization_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    client_id: str = Field(max_length=64)
    user_id: int = Field(foreign_key="user_account.id")
    redirect_uri: str = Field(max_length=1000)
    scope: str = Field(default="", max_length=500)
    nonce: str | None = Field(default=None, max_length=255)
    code_challenge: str = Field(max_length=128)
    auth_time: float
    expires_at: float
    used_at: float | None = None
    # The refresh family its exchange started: a second redemption revokes it (RFC 6749 4.1.2).
    family_id: str | None = Field(default=None, max_length=64)


class SsoSession(Base, table=True):
    __tablename__ = "sso_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    auth_time: float
    expires_at: float
    revoked_at: float | None = None


class AddressThrottle(Base, table=True):
    __tablename__ = "address_throttle"

    address: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    window_start: float
    blocked_until: float | None = None


class AuditEntry(Base, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("seq"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int
    at: str = Field(max_length=40)  # ISO 8601, hashed exactly as stored
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(Base, table=True):
    """The chain's tip, one row: appenders lock it, so the chain never forks, and a deleted
    last row still shows (the head names a row that is gone)."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class SecurityPolicy(Base, table=True):
    """Password and lockout policy set by the security administrator; absent: settings."""

    __tablename__ = "security_policy"

    id: int = Field(default=1, primary_key=True)
    password_min_length: int
    lockout_max_failures: int
    lockout_window_seconds: int
    lockout_seconds: int
    updated_at: float
    updated_by: str = Field(max_length=64)


# -- identity federation: the city trusts another platform's OIDC issuer for named roles ------


class TrustedIssuer(Base, table=True):
    """Another platform's OIDC issuer whose people may sign in here, with exactly the local
    role bindings its claims map to (`mapping`: a list of rules, see schemas.ClaimRule)."""

    __tablename__ = "trusted_issuer"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=100)
    issuer: str = Field(max_length=500, unique=True)
    # The client this platform holds at the issuer (registered there by its operator).
    client_id: str = Field(max_length=128)
    # AES-GCM sealed like the signing keys; None for a public client.
    client_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mapping: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=16)  # active | disabled
    created_at: float
    updated_at: float
    updated_by: str = Field(max_length=100)


class FederatedAccount(Base, table=True):
    """The local account of a person of a trusted issuer: found by (issuer, sub), never by
    e-mail or name, so a namesake at another issuer is another account."""

    __tablename__ = "federated_account"
    __table_args__ = (UniqueConstraint("issuer_id", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="trusted_issuer.id", index=True)
    subject: str = Field(max_length=255)
    user_id: int = Field(foreign_key="user_account.id", unique=True)
    preferred_username: str = Field(default="", max_length=255)
    created_at: float
    last_signin_at: float


class FederatedLogin(Base, table=True):
    """A sign-in sent to a trusted issuer and not yet back: what the callback must check."""

    __tablename__ = "federated_login"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True, index=True)
    # The browser that started it (a cookie's hash): a callback in another browser is refused.
    browser_hash: str = Field(max_length=64)
    issuer_id: int = Field(foreign_key="trusted_issuer.id")
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    # The authorization request of our own client, resumed once the person is back.
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: float
    expires_at: float = Field(index=True)
    used_at: float | None = None


class FederatedSignIn(Base, table=True):
    """What one sign-in's claims became: mapped, not mapped, not used — for the operators."""

    __tablename__ = "federated_signin"

    id: int | None = Field(default=None, primary_key=True)
    issuer_id: int = Field(foreign_key="trusted_issuer.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    subject: str = Field(max_length=255)
    at: float
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unmapped_count: int = 0
