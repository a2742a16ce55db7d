"""Objects in MinIO or any S3-compatible store, through the (synchronous) minio SDK.

Every SDK call runs on a worker thread so the event loop never blocks on the network. The
key is the SHA-256, so a PUT of bytes that already exist is skipped after a HEAD.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from minio import Minio
from minio.error import S3Error

from services.resources.storage.base import CHUNK, ObjectStore, Staged, valid_sha256

_MISSING = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}


class S3ObjectStore(ObjectStore):
    backend = "s3"

    def __init__(
        self,
        staging_dir: Path,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str = "us-east-1",
    ) -> None:
        super().__init__(staging_dir)
        endpoint = endpoint.removeprefix("http://").removeprefix("https://").rstrip("/")
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        self.bucket = bucket

    @staticmethod
    def key_for(sha256: str) -> str:
        if not valid_sha256(sha256):
            raise ValueError("not a sha256")
        return f"{sha256[:2]}/{sha256}"

    async def start(self) -> None:
        await super().start()

        def ensure() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await asyncio.to_thread(ensure)

    def _stat(self, sha256: str) -> Any | None:
        try:
            return self.client.stat_object(self.bucket, self.key_for(sha256))
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise

    async def put(self, staged: Staged, media_type: str) -> bool:
        def upload() -> bool:
            try:
                if self._stat(staged.sha256) is not None:
                    return False
                self.client.fput_object(
                    self.bucket, self.key_for(staged.sha256), str(staged.path), content_type=media_type
                )
                return True
            finally:
                staged.discard()

        return await asyncio.to_thread(upload)

    async def size(self, sha256: str) -> int | None:
        if not valid_sha256(sha256):
            return None
        stat = await asyncio.to_thread(self._stat, sha256)
        return None if stat is None else int(stat.size)

    async def read(self, sha256: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        kwargs: dict[str, Any] = {"offset": start}
        if length is not None:
            kwargs["length"] = length
        response = await asyncio.to_thread(
            self.client.get_object, self.bucket, self.key_for(sha256), **kwargs
        )
        try:
            while True:
                chunk = await asyncio.to_thread(response.read, CHUNK)
                if not chunk:
                    break
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self.client.remove_object, self.bucket, self.key_for(sha256))

    async def presigned_url(self, sha256: str, seconds: int) -> str | None:
        return await asyncio.to_thread(
            self.client.presigned_get_object, self.bucket, self.key_for(sha256), timedelta(seconds=seconds)
        )

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.bucket_exists, self.bucket)
