"""Attachments: streamed multipart upload, sniffing, limits, names, dedup, download."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.resources.conftest import Actors, create_draft
from tests.support import real
from tests.support.services import running_service

API = "/api/resources/v1"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n" + b"0" * 2000 + b"\n%%EOF\n"


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


async def upload(
    client: httpx.AsyncClient, rid: int, headers: dict[str, str], name: str, data: bytes
) -> httpx.Response:
    """A multipart body built by hand, so the file name reaches the server exactly as given
    (httpx would percent-encode control characters)."""
    boundary = "----jiyue-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + name.encode("utf-8")
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return await client.post(
        f"{API}/resources/{rid}/attachments",
        content=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


def leftovers(app: Any) -> tuple[list[Path], list[Path]]:
    """(object files, staging files) in the local store."""
    root: Path = app.state.ctx.state.store.root
    objects = [p for p in root.rglob("*") if p.is_file() and ".staging" not in p.parts]
    staging = [p for p in (root / ".staging").glob("*") if p.is_file()]
    return objects, staging


@pytest.fixture
async def draft(client: httpx.AsyncClient, actors: Actors) -> dict[str, Any]:
    return await create_draft(client, actors.editor)


async def test_upload_sniffs_dedups_and_downloads_with_chinese_name(
    service: tuple[Any, httpx.AsyncClient], actors: Actors, draft: dict[str, Any]
) -> None:
    app, client = service
    name = "关于政府网站管理的通知.pdf"
    resp = await upload(client, draft["id"], actors.editor, name, PDF)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body == {
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
        "media_type": "application/pdf",
        "filename": name,
        "duplicate": False,
        "url": f"{API}/objects/{hashlib.sha256(PDF).hexdigest()}",
    }
    again = await upload(client, draft["id"], actors.editor, "副本.pdf", PDF)
    assert again.json()["duplicate"] is True
    objects, staging = leftovers(app)
    assert len(objects) == 1 and staging == []

    dl = await client.get(body["url"], headers=actors.editor)
    assert dl.status_code == 200 and dl.content == PDF
    assert dl.headers["etag"] == f'"{body["sha256"]}"'
    assert dl.headers["content-type"] == "application/pdf"
    disposition = dl.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition

    docx = await upload(client, draft["id"], actors.editor, "附件1.docx", docx_bytes())
    assert docx.json()["media_type"].endswith("wordprocessingml.document")
    text = await upload(client, draft["id"], actors.editor, "说明.txt", "纯文本说明".encode())
    assert text.json()["media_type"] == "text/plain"
    current = (await client.get(f"{API}/resources/{draft['id']}", headers=actors.editor)).json()["current"]
    assert [a["filename"] for a in current["attachments"]] == [name, "附件1.docx", "说明.txt"]


async def test_download_etag_and_ranges(
    client: httpx.AsyncClient, actors: Actors, draft: dict[str, Any]
) -> None:
    sha = (await upload(client, draft["id"], actors.editor, "a.pdf", PDF)).json()["sha256"]
    url = f"{API}/objects/{sha}"
    ed = actors.editor
    assert (await client.get(url, headers={**ed, "If-None-Match": f'"{sha}"'})).status_code == 304
    part = await client.get(url, headers={**ed, "Range": "bytes=5-14"})
    assert part.status_code == 206 and part.content == PDF[5:15]
    assert part.headers["content-range"] == f"bytes 5-14/{len(PDF)}"
    suffix = await client.get(url, headers={**ed, "Range": "bytes=-6"})
    assert suffix.status_code == 206 and suffix.content == PDF[-6:]
    open_end = await client.get(url, headers={**ed, "Range": f"bytes={len(PDF) - 3}-"})
    assert open_end.content == PDF[-3:]
    for bad in (f"bytes={len(PDF)}-", "bytes=9-3", "bytes=0-1,5-6", "lines=1-2"):
        resp = await client.get(url, headers={**ed, "Range": bad})
        assert resp.status_code == 416, bad
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.headers["content-range"] == f"bytes */{len(PDF)}"
    assert (await client.get(f"{API}/objects/{'0' * 64}")).status_code == 404
    assert (await client.get(f"{API}/objects/not-a-hash")).status_code == 404


EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
SVG_SCRIPT = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG_PLAIN = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("报告.pdf", EXE, 415),
        ("图.svg", SVG_SCRIPT, 415),
        ("图.png", SVG_PLAIN, 415),
        ("页面.txt", b"<html><body><script>x</script></body></html>", 415),
        ("../../etc/passwd.pdf", PDF, 400),
        ("..\\win.pdf", PDF, 400),
        ("a\x07b.pdf", PDF, 400),
        ("a\u202egnp.pdf", PDF, 400),
    ],
)
async def test_bad_uploads_are_refused_and_leave_nothing(
    service: tuple[Any, httpx.AsyncClient],
    actors: Actors,
    draft: dict[str, Any],
    name: str,
    data: bytes,
    status: int,
) -> None:
    app, client = service
    resp = await upload(client, draft["id"], actors.editor, name, data)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["title"]
    assert leftovers(app) == ([], [])
    current = (await client.get(f"{API}/resources/{draft['id']}", headers=actors.editor)).json()["current"]
    assert current["attachments"] == []


async def test_two_gigabyte_stream_is_refused_early_without_buffering(
    service: tuple[Any, httpx.AsyncClient], actors: Actors, draft: dict[str, Any]
) -> None:
    """The limit is 1 MB in these tests; a 2 GB streamed body must stop after ~1 MB."""
    app, client = service
    sent = 0
    boundary = "jiyueboundary"
    chunk = b"\0" * (256 * 1024)

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        yield head
        for _ in range(2 * 1024 * 4):  # 8192 x 256 KiB = 2 GiB
            sent += len(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    started = time.monotonic()
    resp = await client.post(
        f"{API}/resources/{draft['id']}/attachments",
        content=body(),
        headers={**actors.editor, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    elapsed = time.monotonic() - started
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert sent <= 2 * 1024 * 1024, f"read {sent} bytes before refusing"
    assert elapsed < 10
    assert leftovers(app) == ([], [])


async def test_declared_content_length_over_limit_is_refused_before_reading(
    client: httpx.AsyncClient, actors: Actors, draft: dict[str, Any]
) -> None:
    resp = await client.post(
        f"{API}/resources/{draft['id']}/attachments",
        content=b"",
        headers={
            **actors.editor,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(2 * 1024**3),
        },
    )
    assert resp.status_code == 413


async def test_upload_needs_write_access(
    client: httpx.AsyncClient, actors: Actors, draft: dict[str, Any]
) -> None:
    assert (await upload(client, draft["id"], actors.other_editor, "a.pdf", PDF)).status_code == 404
    no_file = await client.post(
        f"{API}/resources/{draft['id']}/attachments",
        data={"note": "x"},
        files={"other": ("a", b"")},
        headers=actors.editor,
    )
    assert no_file.status_code == 400
    not_multipart = await client.post(
        f"{API}/resources/{draft['id']}/attachments", json={}, headers=actors.editor
    )
    assert not_multipart.status_code == 400


@pytest.mark.integration
async def test_upload_and_download_through_the_api_on_minio(tmp_path: Path, issuer: Any) -> None:
    cfg = real.s3_settings()
    actors = Actors(issuer)
    overrides = {
        "object_store": "s3",
        "s3_endpoint": cfg["endpoint"],
        "s3_access_key": cfg["access_key"],
        "s3_secret_key": cfg["secret_key"],
        "s3_bucket": f"api-{uuid.uuid4().hex[:12]}",
    }
    async with running_service("resources", tmp_path / "var", issuer, **overrides) as (_app, client):
        draft = await create_draft(client, actors.editor)
        first = await upload(client, draft["id"], actors.editor, "通知.pdf", PDF)
        assert first.status_code == 201 and first.json()["duplicate"] is False
        second = await upload(client, draft["id"], actors.editor, "通知副本.pdf", PDF)
        assert second.json()["duplicate"] is True
        bad = await upload(client, draft["id"], actors.editor, "x.pdf", EXE)
        assert bad.status_code == 415
        url = first.json()["url"]
        # A draft's attachment is not public: its own editor reads it, nobody else.
        assert (await client.get(url, headers={"Range": "bytes=0-7"})).status_code == 404
        part = await client.get(url, headers={"Range": "bytes=0-7", **actors.editor})
        assert part.status_code == 206 and part.content == PDF[:8]
        link = (await client.get(f"{url}/link", headers=actors.editor)).json()
        async with httpx.AsyncClient() as http:
            direct = await http.get(link["url"])
        assert direct.status_code == 200 and direct.content == PDF
        assert list((tmp_path / "var" / "objects" / ".staging").glob("*")) == []


async def test_rfc5987_file_name_is_decoded(
    client: httpx.AsyncClient, actors: Actors, draft: dict[str, Any]
) -> None:
    boundary = "b5987"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="fallback.pdf"; '
            f"filename*=UTF-8''{quote('政策解读.pdf')}\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    resp = await client.post(
        f"{API}/resources/{draft['id']}/attachments",
        content=body,
        headers={**actors.editor, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["filename"] == "政策解读.pdf"
