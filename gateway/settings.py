"""Gateway settings (env `JIYUE_GATEWAY_*`)."""

from __future__ import annotations

from pydantic import Field

from services.kernel.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    # Services served by another process: {"search": "http://127.0.0.1:8104"}. Every other
    # service of the registry runs inside the gateway's process.
    gateway_backends: dict[str, str] = Field(default_factory=dict)
    # Seconds a remote service may take to start answering before the gateway answers 503.
    gateway_upstream_timeout: float = 15.0
    gateway_connect_timeout: float = 1.0
    # After a remote service failed to connect or answer, its routes answer 503 at once for
    # this long instead of making every caller wait for the same timeout.
    gateway_breaker_seconds: float = 2.0
    # Hosts that address the platform itself (administration, identity) rather than a site.
    gateway_platform_hosts: list[str] = Field(default_factory=list)
    # How often the gateway reads content's change feed (site registry, cache invalidation).
    gateway_feed_poll_seconds: float = 0.5
    # With content in this process its commits wake the registry; the poll is only a safety net.
    gateway_feed_rung_poll_seconds: float = 10.0

    # Rate limits: token buckets held in this process's memory (each replica limits alone).
    gateway_rate_limits: bool = True
    # Anonymous requests, per client address (IPv4 /32, IPv6 /64).
    gateway_rate_address_per_second: float = 100.0
    gateway_rate_address_burst: float = 400.0
    # Authenticated requests, per token subject.
    gateway_rate_subject_per_second: float = 200.0
    gateway_rate_subject_burst: float = 1000.0
    # Sign-in and registration, per client address.
    gateway_rate_signin_per_minute: float = 10.0
    gateway_rate_signin_burst: float = 20.0
    # Anonymous writes (public forms), per client address.
    gateway_rate_write_per_minute: float = 30.0
    gateway_rate_write_burst: float = 10.0
    # Addresses or networks never limited, e.g. ["10.0.0.0/8"] for internal tooling.
    gateway_rate_exempt: list[str] = Field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For names the real client (addresses or networks).
    gateway_trusted_proxies: list[str] = Field(default_factory=list)
    # Networks of the platform itself: callers from there (kubelet probes, Prometheus,
    # operators) see /metrics and the detailed /readyz on any Host.
    gateway_internal_networks: list[str] = Field(
        default_factory=lambda: [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ]
    )

    # Request bodies, refused with 413 before a service parses them: JSON and form APIs, and
    # attachment uploads (the resources service applies its own, smaller per-file limit).
    gateway_body_limit_json: int = 2 * 1024 * 1024
    gateway_body_limit_upload: int = 256 * 1024 * 1024

    # In-process cache of anonymous public delivery and search answers.
    gateway_cache: bool = True
    # Bytes of bodies and headers held, not entries: many small answers or few large ones.
    gateway_cache_max_bytes: int = 64 * 1024 * 1024
    gateway_cache_max_body: int = 512 * 1024
    # Delivery entries live until content's feed says the site changed, or this long at most.
    gateway_cache_ttl_seconds: float = 300.0
    # Search entries cannot follow the index (it lags the feed), so they only live briefly.
    gateway_cache_search_ttl_seconds: float = 5.0
    # Cache-Control max-age for anonymous delivery / search answers.
    gateway_cache_max_age: int = 30

    # Origins allowed beyond every site's own domains, e.g. ["https://console.example.gov.cn"].
    gateway_cors_origins: list[str] = Field(default_factory=list)
    # JSON access log on logger jiyue.access.
    gateway_access_log: bool = True
