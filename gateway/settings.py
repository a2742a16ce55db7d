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

    # In-process cache of anonymous public delivery and search answers.
    gateway_cache: bool = True
    gateway_cache_max_entries: int = 20_000
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
