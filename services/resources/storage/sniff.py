"""Deciding an upload's type from its bytes, against the platform's allow-list.

The file name never decides the family (an .exe renamed .pdf is still an executable); it only
chooses between formats that share a container: OLE2 holds doc, xls, ppt and WPS files alike.
Markup (SVG, HTML) is refused even though it is text: a browser runs its scripts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from services.kernel.errors import UnsupportedMediaType

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_BY_EXT = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "wps": "application/vnd.ms-works",
    "et": "application/vnd.ms-excel",
    "dps": "application/vnd.ms-powerpoint",
}
OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ALLOWED_DESCRIPTION = "pdf, doc/docx, xls/xlsx, ppt/pptx, wps, ofd, txt, jpg/png/gif/webp, mp3, mp4, zip"
_MARKUP_HINTS = (b"<svg", b"<html", b"<script", b"<!doctype", b"<?xml", b"<body", b"<iframe")


def _zip_type(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedMediaType("ZIP 文件已损坏，无法识别") from exc
    if "[Content_Types].xml" in names:
        for prefix, media in OOXML.items():
            if any(n.startswith(prefix) for n in names):
                return media
    if "OFD.xml" in names or any(n.lower() == "ofd.xml" for n in names):
        return "application/ofd"
    return "application/zip"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    sample = head[:4096]
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multibyte character may be cut at the end of the sample.
            sample.decode(encoding) if len(head) <= 4096 else sample[:-4].decode(encoding, errors="strict")
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls == 0


def sniff(path: Path, filename: str) -> str:
    """The media type of an allowed file, or UnsupportedMediaType."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(OLE2):
        return OLE_BY_EXT.get(ext, "application/msword")
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"MZ") or head.startswith(b"\x7fELF"):
        raise UnsupportedMediaType(f"可执行文件不允许上传；允许的类型: {ALLOWED_DESCRIPTION}")
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(hint in lowered[:4096] for hint in _MARKUP_HINTS):
        raise UnsupportedMediaType(f"SVG/HTML 等标记文件不允许上传；允许的类型: {ALLOWED_DESCRIPTION}")
    if head and _looks_like_text(head):
        return "text/plain"
    raise UnsupportedMediaType(f"无法识别或不允许的文件类型；允许的类型: {ALLOWED_DESCRIPTION}")
