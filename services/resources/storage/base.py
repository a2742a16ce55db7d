"""The object store interface and the staging step both backends share.

An upload is first streamed into a staging file (hashing and counting as it goes, refusing
once it passes the size limit), then sniffed, and only then handed to a backend under its
SHA-256. A crash before the hand-over leaves only a staging file, which startup removes; the
hand-over itself is atomic in both backends (rename; a single S3 PUT).
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from services.kernel.errors import PayloadTooLarge

CHUNK = 256 * 1024
SHA256_HEX = frozenset("0123456789abcdef")


def valid_sha256(value: str) -> bool:
    return len(value) == 64 and set(value) <= SHA256_HEX


@dataclass
class Staged:
    path: Path
    sha256: str
    size: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class StagingWriter:
    """Receives an upload chunk by chunk; never holds more than one chunk in memory."""

    def __init__(self, staging_dir: Path, limit: int) -> None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        self.path = staging_dir / f"{uuid.uuid4().hex}.part"
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        self._fh = open(self.path, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise PayloadTooLarge(f"文件超过上传上限 {self.limit // (1024 * 1024)} MB")
        self._hash.update(chunk)
        self._fh.write(chunk)

    def finish(self) -> Staged:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        return Staged(path=self.path, sha256=self._hash.hexdigest(), size=self.size)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        self.path.unlink(missing_ok=True)


def clean_staging(staging_dir: Path) -> int:
    """Remove staging files a crashed process left behind; answers how many."""
    removed = 0
    if staging_dir.is_dir():
        for leftover in staging_dir.iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
                removed += 1
    return removed


class ObjectStore(abc.ABC):
    """Content-addressed bytes: an object's name is the SHA-256 of its content."""

    backend: str = ""

    def __init__(self, staging_dir: Path) -> None:
        self.staging_dir = staging_dir

    def stager(self, limit: int) -> StagingWriter:
        return StagingWriter(self.staging_dir, limit)

    async def start(self) -> None:
        """Prepare the backend and drop staging files left by a crash."""
        clean_staging(self.staging_dir)

    @abc.abstractmethod
    async def put(self, staged: Staged, media_type: str) -> bool:
        """Store a staged file under its hash; False when the object already existed.

        The staging file is consumed either way.
        """

    @abc.abstractmethod
    async def size(self, sha256: str) -> int | None:
        """The object's size, or None when it does not exist."""

    @abc.abstractmethod
    def read(self, sha256: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The object's bytes from `start`, `length` of them (all when None)."""

    @abc.abstractmethod
    async def delete(self, sha256: str) -> None: ...

    @abc.abstractmethod
    async def presigned_url(self, sha256: str, seconds: int) -> str | None:
        """A time-limited direct download URL, or None when the backend has none."""

    @abc.abstractmethod
    async def ping(self) -> None: ...

    async def read_all(self, sha256: str) -> bytes:
        return b"".join([chunk async for chunk in self.read(sha256)])
