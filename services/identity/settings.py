"""Settings of the identity service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    service_name: str = "identity"
