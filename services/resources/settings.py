"""Settings of the resources service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class ResourcesSettings(ServiceSettings):
    service_name: str = "resources"
