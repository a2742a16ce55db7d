"""One conformance suite for every object backend: the same bodies, local and S3/MinIO."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from minio.error import S3Error

from services.kernel.errors import PayloadTooLarge
from services.resources.storage import ObjectStore, Staged
from services.resources.storage.local import LocalObjectStore
from services.resources.storage.s3 import S3ObjectStore
from tests.support import real


def s3_store(staging: Path, **overrides: str) -> ObjectStore:
    cfg = real.s3_settings()
    args = {
        "endpoint": cfg["endpoint"],
        "access_key": cfg["access_key"],
        "secret_key": cfg["secret_key"],
        "bucket": f"t-{uuid.uuid4().hex[:12]}",
    }
    args.update(overrides)
    return S3ObjectStore(staging, **args)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    made = (
        LocalObjectStore(tmp_path / "objects") if request.param == "local" else s3_store(tmp_path / "staging")
    )
    await made.start()
    yield made


def stage(store: ObjectStore, data: bytes, chunk: int = 1000) -> Staged:
    writer = store.stager(limit=10 * 1024 * 1024)
    for i in range(0, len(data), chunk):
        writer.write(data[i : i + chunk])
    return writer.finish()


async def test_put_read_and_duplicate(store: ObjectStore) -> None:
    data = ("政府网站集约化" * 5000).encode()
    staged = stage(store, data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.size == len(data)
    assert await store.put(staged, "text/plain") is True
    assert not staged.path.exists(), "staging file consumed"
    assert await store.size(staged.sha256) == len(data)
    assert await store.read_all(staged.sha256) == data
    again = stage(store, data, chunk=777)
    assert again.sha256 == staged.sha256
    assert await store.put(again, "text/plain") is False
    assert not again.path.exists()


async def test_ranges(store: ObjectStore) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB, several read chunks
    staged = stage(store, data, chunk=65536)
    await store.put(staged, "application/octet-stream")
    sha = staged.sha256
    part = b"".join([c async for c in store.read(sha, 100, 50)])
    assert part == data[100:150]
    tail = b"".join([c async for c in store.read(sha, len(data) - 10)])
    assert tail == data[-10:]
    big = b"".join([c async for c in store.read(sha, 1, 600_000)])
    assert big == data[1:600_001]


async def test_missing_object_and_delete(store: ObjectStore) -> None:
    assert await store.size("0" * 64) is None
    staged = stage(store, b"to be deleted")
    await store.put(staged, "text/plain")
    await store.delete(staged.sha256)
    assert await store.size(staged.sha256) is None


async def test_limit_enforced_while_staging(store: ObjectStore) -> None:
    writer = store.stager(limit=10_000)
    writer.write(b"x" * 6000)
    with pytest.raises(PayloadTooLarge):
        writer.write(b"x" * 6000)
    assert not writer.path.exists()
    assert list(store.staging_dir.iterdir()) == []


async def test_startup_removes_leftover_staging_files(store: ObjectStore) -> None:
    writer = store.stager(limit=10_000)
    writer.write(b"half an upload")  # never finished: the process "died" here
    assert writer.path.exists()
    await store.start()
    assert list(store.staging_dir.iterdir()) == []


async def test_ping(store: ObjectStore) -> None:
    await store.ping()


async def test_presigned_url(store: ObjectStore) -> None:
    staged = stage(store, b"presigned bytes")
    await store.put(staged, "text/plain")
    url = await store.presigned_url(staged.sha256, 60)
    if store.backend == "local":
        assert url is None  # local objects are served by the API itself
        return
    assert url is not None
    async with httpx.AsyncClient() as http:
        resp = await http.get(url)
    assert resp.status_code == 200 and resp.content == b"presigned bytes"


@pytest.mark.integration
async def test_s3_expired_presigned_url_is_refused(tmp_path: Path) -> None:
    store = s3_store(tmp_path / "staging")
    await store.start()
    staged = stage(store, b"short-lived")
    await store.put(staged, "text/plain")
    url = await store.presigned_url(staged.sha256, 1)
    assert url is not None
    await asyncio.sleep(2.5)
    async with httpx.AsyncClient() as http:
        resp = await http.get(url)
    assert resp.status_code == 403


@pytest.mark.integration
async def test_s3_wrong_secret_key_is_refused(tmp_path: Path) -> None:
    good = s3_store(tmp_path / "staging")
    await good.start()
    bad = s3_store(tmp_path / "staging2", secret_key="wrong-secret-key", bucket=good.bucket)  # type: ignore[attr-defined]
    with pytest.raises(S3Error) as info:
        await bad.ping()
    assert info.value.code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied")
    staged = stage(bad, b"never stored")
    with pytest.raises(S3Error):
        await bad.put(staged, "text/plain")
    assert await good.size(staged.sha256) is None
