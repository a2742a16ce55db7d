"""Object download: access by use, ETag (the SHA-256), conditional GET, single byte ranges,
RFC 6266 names, and the platform administrator's takedown of one object."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from services.kernel.deps import OptionalPrincipalDep, PageDep, PrincipalDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RangeNotSatisfiable,
    Unauthorized,
    problem_responses,
)
from services.kernel.pagination import Page
from services.resources.api.deps import SettingsDep, StoreDep
from services.resources.schemas import ObjectLinkOut, TakedownOut, TakedownRequest
from services.resources.service import takedown
from services.resources.service.objects import object_grant

router = APIRouter(tags=["objects"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
Sha256Path = Annotated[str, Path(min_length=1, max_length=128, description="对象的 SHA-256（十六进制）")]
# Nothing that can be taken back is cached for a year: public objects are revalidated on every
# use (so after a takedown a conditional request gets 404, not 304); others are never stored.
PUBLIC_CACHE = "public, no-cache"
PRIVATE_CACHE = "private, no-store"


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
    summary="下载对象（在用发布的附件公开；其余仅限所属站点人员；支持 ETag/If-None-Match 与单段 Range）",
    responses={
        **problem_responses(NotFound, RangeNotSatisfiable),
        200: {
            "description": "对象的字节（Content-Type 为其嗅探出的媒体类型）",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        206: {
            "description": "Range 请求的一段",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
    response_class=Response,
)
async def download(
    sha256: Sha256Path,
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipalDep,
    store: StoreDep,
    filename: Annotated[str | None, Query(description="下载时使用的文件名")] = None,
) -> Response:
    grant = await object_grant(session, principal, sha256)
    sha256 = grant.obj.sha256
    size = await store.size(sha256)
    if size is None:
        raise NotFound("对象不存在")
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": PUBLIC_CACHE if grant.public else PRIVATE_CACHE,
        "Content-Disposition": content_disposition(filename or grant.filename),
        "X-Content-Type-Options": "nosniff",
    }
    if not grant.public:
        headers["Vary"] = "Authorization"
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
            media_type=grant.obj.media_type,
            headers=headers,
        )
    headers["Content-Length"] = str(size)
    return StreamingResponse(store.read(sha256), media_type=grant.obj.media_type, headers=headers)


@router.get(
    "/objects/{sha256}/link",
    response_model=ObjectLinkOut,
    summary="对象的下载地址：公开对象给出 API 地址；所属站点人员在 S3 存储下得到限时预签名地址",
    responses=problem_responses(NotFound),
)
async def link(
    sha256: Sha256Path,
    session: SessionDep,
    principal: OptionalPrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> ObjectLinkOut:
    grant = await object_grant(session, principal, sha256)
    api_url = f"/api/resources/v1/objects/{grant.obj.sha256}"
    # A presigned URL cannot be revoked by a takedown: never for the public, short for staff.
    url = None if grant.public else await store.presigned_url(grant.obj.sha256, settings.presign_seconds)
    return ObjectLinkOut(url=url or api_url, expires_in=settings.presign_seconds if url else None)


@router.post(
    "/objects/{sha256}/takedown",
    response_model=TakedownOut,
    summary="下架单个对象（平台管理员）：立即不可访问，保留期满后销毁",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def take_down_object(
    sha256: Sha256Path,
    body: TakedownRequest,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> TakedownOut:
    record = await takedown.take_down_object(
        session, principal, sha256, body.reason, settings.resources_takedown_retention_hours
    )
    return takedown.takedown_out(record)


@router.get(
    "/takedowns",
    response_model=Page[TakedownOut],
    summary="下架审计记录（平台管理员、安全管理员、审计管理员）",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def takedowns(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Page[TakedownOut]:
    rows, total = await takedown.list_takedowns(session, principal, page)
    return Page(total=total, page=page.page, size=page.size, items=[takedown.takedown_out(r) for r in rows])
