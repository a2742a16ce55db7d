"""Objects as files: data_dir/objects/ab/cd/<sha256>.

A file appears under its final name only by a hard link from a complete, fsynced staging file
(link refuses to overwrite, so two racing uploads of the same bytes cannot clobber each other),
and the directory is fsynced so the name survives a power cut.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

from services.resources.storage.base import CHUNK, ObjectStore, Staged, clean_staging, valid_sha256


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalObjectStore(ObjectStore):
    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(root / ".staging")
        root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not valid_sha256(sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def start(self) -> None:
        await asyncio.to_thread(clean_staging, self.staging_dir)

    def _put(self, staged: Staged) -> bool:
        target = self.path_for(staged.sha256)
        try:
            if target.exists():
                return False
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(staged.path, target)
            except FileExistsError:
                return False
            _fsync_dir(target.parent)
            return True
        finally:
            staged.discard()

    async def put(self, staged: Staged, media_type: str) -> bool:
        return await asyncio.to_thread(self._put, staged)

    async def size(self, sha256: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.path_for(sha256).stat)).st_size
        except (FileNotFoundError, ValueError):
            return None

    async def read(self, sha256: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        fh = await asyncio.to_thread(open, self.path_for(sha256), "rb")
        try:
            await asyncio.to_thread(fh.seek, start)
            remaining = length
            while remaining is None or remaining > 0:
                want = CHUNK if remaining is None else min(CHUNK, remaining)
                chunk = await asyncio.to_thread(fh.read, want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            fh.close()

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self.path_for(sha256).unlink, True)

    async def presigned_url(self, sha256: str, seconds: int) -> str | None:
        return None

    async def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise OSError(f"object folder {self.root} is not writable")
