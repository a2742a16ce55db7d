"""Settings of the identity service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    service_name: str = "identity"
    # Access tokens cannot be recalled once issued (services verify them offline), so this is
    # also the longest time a revoked or disabled account keeps working at other services.
    access_token_ttl_seconds: int = 600
    refresh_token_ttl_seconds: int = 8 * 3600
    # However often a refresh token is rotated, its family (one sign-in) ends this long after
    # the sign-in; then the person signs in again.
    refresh_family_max_seconds: int = 30 * 86400
    id_token_ttl_seconds: int = 600
    authorization_code_ttl_seconds: int = 60
    sso_session_ttl_seconds: int = 8 * 3600
    # 等保三级: lock an account after repeated failures within a window.
    lockout_max_failures: int = 5
    lockout_window_seconds: int = 15 * 60
    lockout_seconds: int = 15 * 60
    # Per client address: failures beyond this many in the window make the address wait,
    # doubling each time, up to address_backoff_max_seconds.
    address_failure_threshold: int = 20
    address_backoff_max_seconds: int = 15 * 60
    # argon2id (RFC 9106 second recommended option); tests lower these for speed.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 64 * 1024  # KiB
    argon2_parallelism: int = 4
    # Memory all concurrent password hashes together may use (MiB): hashes beyond
    # budget / argon2_memory_cost wait up to identity_hash_wait_seconds, then the request answers 503.
    # 256 MiB = four 64 MiB hashes, which a 512 MiB identity pod holds beside the process.
    identity_hash_memory_mb: int = 256
    identity_hash_wait_seconds: float = 2.0
    # How often expired codes, sessions, refresh tokens and address counters are deleted.
    identity_purge_interval_seconds: float = 3600.0
    # Key-encryption key for the signing keys at rest (JIYUE_IDENTITY_KEY_ENCRYPTION_KEY);
    # empty: a secret file in the data folder.
    identity_key_encryption_key: str = ""
    # Password of the bootstrap system administrator `admin` (JIYUE_ADMIN_PASSWORD); empty:
    # generated once and printed to stderr.
    admin_password: str = ""
    # Identity federation (trusted issuers of other platforms). Discovery, JWKS, token and
    # userinfo go through the guarded outbound client: a loopback or private issuer (a
    # province on the same network) must be allow-listed here, CIDRs separated by commas.
    identity_outbound_allow: str = ""
    identity_federation_deadline_seconds: float = 10.0
    # How long a person may spend at the issuer's sign-in page before the attempt lapses.
    identity_federation_login_seconds: int = 600
    # How long an issuer's discovery document and keys are trusted before they are re-read
    # (an unknown kid re-reads the keys sooner, at most once per refetch interval).
    identity_federation_metadata_seconds: int = 300
    identity_federation_refetch_seconds: float = 10.0
