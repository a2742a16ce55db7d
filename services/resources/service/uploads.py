"""Streaming multipart uploads: parsed chunk by chunk, limited while streaming, sniffed, stored.

Nothing buffers the whole body: each chunk goes to a staging file, and the limit is checked
on every chunk, so a 2 GB upload is refused after the first ~limit bytes, not after 2 GB.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.auth import Principal
from services.kernel.chinese import nfc
from services.kernel.clock import epoch
from services.kernel.errors import BadRequest, Conflict, PayloadTooLarge
from services.resources.models import Attachment, StoredObject
from services.resources.schemas import UploadOut
from services.resources.service.resources import draft_version, writable_resource
from services.resources.storage import ObjectStore, Staged, StagingWriter
from services.resources.storage.sniff import sniff

FORM_OVERHEAD = 64 * 1024
_FILENAME_STAR = re.compile(
    rb"filename\*\s*=\s*[Uu][Tt][Ff]-8'[^']*'([^;\s]+)"
)  # boundaries, part headers and small fields around the file


def check_filename(raw: str) -> str:
    """A file name safe to keep and to hand back: refused (400) rather than silently rewritten."""
    name = nfc(raw).strip()
    if not name:
        raise BadRequest("文件名为空", errors=[{"field": "file", "message": "文件名为空"}])
    bad = (
        "/" in name
        or "\\" in name
        or name in (".", "..")
        or name.startswith("..")
        or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name)
    )
    if bad:
        raise BadRequest(
            "文件名含路径分隔符、上级目录或控制字符",
            errors=[{"field": "file", "message": "文件名不能包含 / \\ .. 或控制字符"}],
        )
    if len(name.encode("utf-8")) > 255:
        raise BadRequest("文件名过长", errors=[{"field": "file", "message": "文件名不超过 255 字节"}])
    return name


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: str = ""
    filename: str | None = None


class _FileReceiver:
    """python-multipart callbacks that send the `file` part into a staging writer."""

    def __init__(self, store: ObjectStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.part = _Part()
        self._header_field = b""
        self._header_value = b""
        self.writer: StagingWriter | None = None
        self.staged: Staged | None = None
        self.filename: str | None = None
        self.other_bytes = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda d, s, e: self._add("_header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("_header_value", d[s:e]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def _add(self, attr: str, data: bytes) -> None:
        setattr(self, attr, getattr(self, attr) + data)

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_end(self) -> None:
        self.part.headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        raw = self.part.headers.get(b"content-disposition", b"")
        _, params = parse_options_header(raw)
        self.part.field_name = params.get(b"name", b"").decode("utf-8", "replace")
        # RFC 5987 filename*=UTF-8''%E6%96%87... wins over the plain fallback; python-multipart
        # keeps only the fallback, so it is read from the raw header.
        star = _FILENAME_STAR.search(raw)
        if star:
            try:
                self.part.filename = unquote(
                    star.group(1).decode("latin-1"), encoding="utf-8", errors="strict"
                )
            except UnicodeDecodeError as exc:
                raise BadRequest("filename* 不是有效的 UTF-8 编码") from exc
        elif b"filename" in params:
            self.part.filename = params[b"filename"].decode("utf-8", "replace")
        if self.part.field_name == "file" and self.part.filename is not None:
            if self.writer is not None or self.staged is not None:
                raise BadRequest("一次只能上传一个文件")
            self.filename = check_filename(self.part.filename)
            self.writer = self.store.stager(self.limit)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.writer is not None and self.staged is None and self.part.filename is not None:
            self.writer.write(data[start:end])
        else:
            self.other_bytes += end - start
            if self.other_bytes > FORM_OVERHEAD:
                raise PayloadTooLarge("表单字段过大")

    def on_part_end(self) -> None:
        if self.writer is not None and self.staged is None and self.part.filename is not None:
            self.staged = self.writer.finish()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
        if self.staged is not None:
            self.staged.discard()


async def receive_file(
    store: ObjectStore,
    content_type: str,
    content_length: str | None,
    chunks: AsyncIterator[bytes],
    limit: int,
) -> tuple[Staged, str, str]:
    """Stream a multipart body into staging; answers (staged file, file name, sniffed type)."""
    if content_length and content_length.isdigit() and int(content_length) > limit + FORM_OVERHEAD:
        raise PayloadTooLarge(f"文件超过上传上限 {limit // (1024 * 1024)} MB")
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadRequest("请使用 multipart/form-data 上传，文件字段名为 file")
    receiver = _FileReceiver(store, limit)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
        if receiver.staged is None or receiver.filename is None:
            raise BadRequest("缺少文件字段 file", errors=[{"field": "file", "message": "缺少必填字段"}])
        media_type = await asyncio.to_thread(sniff, receiver.staged.path, receiver.filename)
    except BaseException:
        receiver.abort()
        raise
    return receiver.staged, receiver.filename, media_type


async def attach(
    session: AsyncSession,
    store: ObjectStore,
    principal: Principal,
    resource_id: int,
    staged: Staged,
    filename: str,
    media_type: str,
) -> UploadOut:
    """Keep the staged bytes as an object (once per content) and attach it to the draft."""
    resource = await writable_resource(session, principal, resource_id)
    version = await draft_version(session, resource, principal)
    known = await session.get(StoredObject, staged.sha256)
    if known is not None and known.blocked_at is not None:
        raise Conflict("该文件已被平台下架，不能再次上传")
    created = await store.put(staged, media_type)
    if known is None:
        session.add(
            StoredObject(sha256=staged.sha256, size=staged.size, media_type=media_type, created_at=epoch())
        )
    already = (
        await session.execute(
            select(Attachment).where(
                col(Attachment.resource_id) == resource_id,
                col(Attachment.version) == version.version,
                col(Attachment.sha256) == staged.sha256,
            )
        )
    ).scalar_one_or_none()
    if already is None:
        session.add(
            Attachment(
                resource_id=resource_id,
                version=version.version,
                sha256=staged.sha256,
                filename=filename,
                media_type=media_type,
                size=staged.size,
                created_by=principal.sub,
                created_at=epoch(),
            )
        )
    return UploadOut(
        sha256=staged.sha256,
        size=staged.size,
        media_type=media_type,
        filename=filename,
        duplicate=known is not None or not created,
        url=f"/api/resources/v1/objects/{staged.sha256}",
    )
