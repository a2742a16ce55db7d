"""Settings of the search service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
