"""Settings of the federation service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class FederationSettings(ServiceSettings):
    service_name: str = "federation"
    # The local services whose feeds federation re-publishes to peers.
    federation_content_source: str = "content"
    # The operator's allow-list for peers' addresses (CIDRs): the guarded client refuses
    # loopback and private networks otherwise (a province reached over a private line needs it).
    federation_peer_allow: str = ""
    # One deadline for each exchange with a peer, and the most of an answer that is read.
    federation_peer_deadline_seconds: float = 15.0
    federation_peer_max_response_bytes: int = 16 * 1024 * 1024
    # How often the registered peers are looked at (followers started or stopped).
    federation_peer_refresh_seconds: float = 5.0
    # A peer's feed is late when we have not been at its head for this long: warning and status.
    federation_lag_warn_seconds: float = 300.0
    # Key that encrypts our credentials at peers (Fernet, 32 url-safe base64 bytes); empty: a
    # key kept in the data folder. Replicas of a split deployment must share it.
    federation_secret_key: str = ""
