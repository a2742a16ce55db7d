"""Settings of the content service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class ContentSettings(ServiceSettings):
    service_name: str = "content"
