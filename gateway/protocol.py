"""uvicorn's HTTP/1.1 protocol, accepting request targets with raw UTF-8 in them.

curl, wget and many scripts send `GET /search?q=政务公开` as it was typed: UTF-8 bytes in
the request line, which RFC 9112 does not allow and both of uvicorn's parsers refuse with a
plain-text "Invalid HTTP request received.". Browsers percent-encode, so the bytes mean the
same as their %XX form; we percent-encode them before the parser sees the request line, and
the request is served as if the client had encoded it.

Only request lines are rewritten (never headers or bodies): the protocol knows where each
one starts, at the connection's start and after every complete request. A pipelined request
that begins in the same packet as the end of the previous one is parsed as sent. What still
cannot be parsed is refused with a problem+json 400, not plain text.
"""

from __future__ import annotations

import asyncio
import json
import re

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from services.kernel.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, BadRequest

_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BAD_REQUEST = json.dumps(
    {
        "type": PROBLEM_BASE + BadRequest.slug,
        "title": "请求格式错误",
        "status": 400,
        "detail": "无法解析的 HTTP 请求：请求行中的非 ASCII 字符须百分号编码（如 %E6%94%BF）",
    },
    ensure_ascii=False,
).encode()


def percent_encode_line(line: bytes) -> bytes:
    return _NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], line)


class Utf8TargetProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._in_request_line = True
        self._completed_in_packet = False
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._completed_in_packet = False
        if self._in_request_line:
            end = data.find(b"\n")
            if end == -1:
                data = percent_encode_line(data)
            else:
                self._in_request_line = False
                data = percent_encode_line(data[: end + 1]) + data[end + 1 :]
        super().data_received(data)

    def on_message_complete(self) -> None:
        self._in_request_line = True
        self._completed_in_packet = True
        super().on_message_complete()

    def on_message_begin(self) -> None:
        if self._completed_in_packet:
            self._in_request_line = False  # pipelined: its line came in this packet, as sent
        super().on_message_begin()

    def send_400_response(self, msg: str) -> None:
        head = [
            b"HTTP/1.1 400 Bad Request\r\n",
            b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
            b"content-length: " + str(len(_BAD_REQUEST)).encode() + b"\r\n",
            b"connection: close\r\n",
        ]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        self.transport.write(b"".join([*head, b"\r\n", _BAD_REQUEST]))
        self.transport.close()
