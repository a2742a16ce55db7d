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

    @property
    def max_upload_bytes(self) -> int:
        return self.resources_max_upload_mb * 1024 * 1024
