"""Object storage: one interface, a local content-addressed folder or an S3/MinIO bucket."""

from __future__ import annotations

from services.resources.settings import ResourcesSettings
from services.resources.storage.base import ObjectStore, Staged, StagingWriter, valid_sha256
from services.resources.storage.local import LocalObjectStore

__all__ = ["ObjectStore", "Staged", "StagingWriter", "make_store", "valid_sha256"]


def make_store(settings: ResourcesSettings) -> ObjectStore:
    root = settings.resolved_data_dir / "objects"
    if settings.object_store == "s3":
        from services.resources.storage.s3 import S3ObjectStore

        return S3ObjectStore(
            root / ".staging",
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return LocalObjectStore(root)
