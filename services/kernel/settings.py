"""Settings shared by every service; each service subclasses `ServiceSettings`.

One env prefix (`JIYUE_`) for the whole platform so an operator reads one list of names.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIYUE_", extra="ignore", env_file=None)

    # Which service these settings belong to; subclasses pin it.
    service_name: str = "kernel"
    data_dir: Path = Path("./var")
    # A PostgreSQL URL shared by all services (each uses its own schema), or empty for SQLite.
    database_url: str = ""
    log_level: str = "INFO"
    log_json: bool = False
    # Public base URL of the platform (the gateway), used as the token issuer.
    public_url: str = "http://127.0.0.1:8000"
    token_audience: str = "jiyue"
    # Where services reach identity for the JWKS and other services for their APIs when they
    # are not in the same process: {"identity": "http://10.0.0.5:8001", ...}.
    service_urls: dict[str, str] = Field(default_factory=dict)
    # Secret for service-to-service calls (machine client `jiyue-internal`).
    internal_client_secret: str = ""
    jwks_cache_seconds: int = 300
    # Feed consumers poll their source this often when idle.
    feed_poll_seconds: float = 0.5
    # ...and this often when a producer in the same process wakes them after each commit.
    feed_rung_poll_seconds: float = 10.0
    feed_lease_seconds: float = 15.0
    # Producers prune events older than this once every consumer seen within it has passed them.
    feed_retention_days: float = 30.0
    feed_prune_seconds: float = 3600.0
    # A consumer retries a failing event with exponential backoff from this base, then sets it
    # aside in its dead letters after this many attempts.
    feed_max_attempts: int = 5
    feed_retry_base_seconds: float = 1.0
    # Per-service override of the database URL, e.g. JIYUE_DATABASE_URLS='{"search": "..."}'.
    database_urls: dict[str, str] = Field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/")

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def service_database_url(self, service: str | None = None) -> str:
        name = service or self.service_name
        if name in self.database_urls:
            return self.database_urls[name]
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_data_dir / f'{name}.db'}"

    def database_schema(self, service: str | None = None) -> str | None:
        """PostgreSQL keeps each service in its own schema; SQLite keeps it in its own file."""
        url = self.service_database_url(service)
        return None if url.startswith("sqlite") else (service or self.service_name)

    def describe(self) -> dict[str, Any]:
        """Settings safe to print: secrets masked."""
        out = self.model_dump(mode="json")
        for key in list(out):
            if "secret" in key or "password" in key:
                out[key] = "***" if out[key] else ""
        return out
