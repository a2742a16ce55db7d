"""Object download: ETag (the SHA-256), conditional GET, single byte ranges, RFC 6266 names."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlmodel import col

from services.kernel.deps import SessionDep
from services.kernel.errors import NotFound, RangeNotSatisfiable, problem_responses
from services.resources.api.deps import SettingsDep, StoreDep
from services.resources.models import Attachment, StoredObject
from services.resources.storage import valid_sha256

router = APIRouter(tags=["objects"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients and the exact UTF-8 name in filename*."""
    fallback = (
        "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename) or "download"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def parse_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) inclusive for one `bytes=` range, or RangeNotSatisfiable."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable("只支持单个 bytes=起-止 范围", headers={"Content-Range": f"bytes */{size}"})
    first_s, last_s = m.groups()
    if not first_s:  # suffix: the last N bytes
        n = int(last_s)
        if n == 0:
            raise RangeNotSatisfiable("范围为空", headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable(f"范围超出文件大小 {size}", headers={"Content-Range": f"bytes */{size}"})
    return first, min(last, size - 1)


@router.get(
    "/objects/{sha256}",
    summary="下载对象（支持 ETag/If-None-Match 与单段 Range）",
    responses={
        **problem_responses(NotFound, RangeNotSatisfiable),
        200: {"content": {"application/octet-stream": {}}},
    },
    response_class=Response,
)
async def download(
    sha256: str,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    filename: Annotated[str | None, Query(description="下载时使用的文件名")] = None,
) -> Response:
    sha256 = sha256.lower()
    if not valid_sha256(sha256):
        raise NotFound("对象不存在")
    obj = await session.get(StoredObject, sha256)
    size = await store.size(sha256) if obj is not None else None
    if obj is None or size is None:
        raise NotFound("对象不存在")
    if filename is None:
        filename = (
            await session.execute(
                select(col(Attachment.filename)).where(col(Attachment.sha256) == sha256).limit(1)
            )
        ).scalar_one_or_none() or sha256
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
    }
    inm = request.headers.get("if-none-match")
    if inm and (inm.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in inm.split(",")]):
        return Response(status_code=304, headers=headers)
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (if_range is None or if_range.strip() == etag):
        first, last = parse_range(range_header, size)
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
        return StreamingResponse(
            store.read(sha256, first, last - first + 1),
            status_code=206,
            media_type=obj.media_type,
            headers=headers,
        )
    headers["Content-Length"] = str(size)
    return StreamingResponse(store.read(sha256), media_type=obj.media_type, headers=headers)


@router.get("/objects/{sha256}/link", summary="对象的限时直接下载地址（S3 预签名；本地存储给出 API 地址）")
async def link(sha256: str, session: SessionDep, store: StoreDep, settings: SettingsDep) -> dict[str, object]:
    sha256 = sha256.lower()
    if not valid_sha256(sha256) or await session.get(StoredObject, sha256) is None:
        raise NotFound("对象不存在")
    url = await store.presigned_url(sha256, settings.presign_seconds)
    return {
        "url": url or f"/api/resources/v1/objects/{sha256}",
        "expires_in": settings.presign_seconds if url else None,
    }
