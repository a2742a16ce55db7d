"""Gateway settings."""

from __future__ import annotations

from pydantic import Field

from services.kernel.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    # Services served by another process: {"search": "http://127.0.0.1:8104"}. Every other
    # service of the registry runs inside the gateway's process.
    gateway_backends: dict[str, str] = Field(default_factory=dict)
    # Seconds a remote service may take before the gateway answers 503.
    gateway_upstream_timeout: float = 30.0
    gateway_connect_timeout: float = 1.0
    # Hosts that address the platform itself (administration, identity) rather than a site.
    gateway_platform_hosts: list[str] = Field(default_factory=list)
