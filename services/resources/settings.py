"""Settings of the resources service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from services.kernel.settings import ServiceSettings


class ResourcesSettings(ServiceSettings):
    service_name: str = "resources"
    # local: content-addressed files under data_dir/objects; s3: MinIO or any S3 store.
    object_store: Literal["local", "s3"] = "local"
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "jiyue-objects"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    resources_max_upload_mb: int = 200
    # An operator folder whose lexicon and vocabulary files extend the shipped ones.
    resources_lexicon_dir: Path | None = None
    presign_seconds: int = 600
    # Machine review of /checks and 入库 runs off the event loop; how much text one call may
    # ask to review: callers with no staff binding (citizens) little, site staff the full 5 MB.
    resources_check_max_chars_public: int = 20_000
    resources_check_max_chars_staff: int = 5_000_000
    # How long taken-down bytes are kept (unreachable) for investigation before being destroyed.
    resources_takedown_retention_hours: float = 720.0
    resources_purge_interval_seconds: float = 300.0

    @property
    def max_upload_bytes(self) -> int:
        return self.resources_max_upload_mb * 1024 * 1024
