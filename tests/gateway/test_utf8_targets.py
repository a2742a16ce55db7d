"""Raw UTF-8 in a request line (what curl sends for a pasted URL) is served as its
percent-encoded form; what still cannot be parsed is refused as problem+json, not plain text."""

from __future__ import annotations

import json
import socket

from starlette.types import Receive, Scope, Send

from tests.gateway.servers import serving


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    received = b""
    while True:
        message = await receive()
        received += message.get("body", b"")
        if not message.get("more_body"):
            break
    seen = {"path": scope["path"], "query": scope["query_string"].decode(), "body": received.decode()}
    body = json.dumps(seen, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def exchange(port: int, request: bytes, *, pieces: int = 1) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        step = max(1, len(request) // pieces)
        for i in range(0, len(request), step):
            sock.sendall(request[i : i + step])
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def answers(raw: bytes) -> list[tuple[int, bytes]]:
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(v)
            for k, _, v in (line.partition(b": ") for line in head.split(b"\r\n")[1:])
            if k.lower() == b"content-length"
        )
        out.append((status, rest[:length]))
        raw = rest[length:]
    return out


def test_raw_utf8_in_path_and_query_is_served_as_if_percent_encoded() -> None:
    target = "/sites/sfs/路径?q=政务公开&size=5".encode()
    with serving(echo) as port:
        for pieces in (1, 3):  # the request line may arrive split across packets
            raw = exchange(
                port,
                b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                pieces=pieces,
            )
            ((status, body),) = answers(raw)
            assert status == 200, raw[:300]
            seen = json.loads(body)
            assert seen["path"] == "/sites/sfs/路径"
            assert seen["query"] == "q=%E6%94%BF%E5%8A%A1%E5%85%AC%E5%BC%80&size=5"
        # bodies are never rewritten
        body = "正文".encode()
        two = (
            b"POST /a?x=\xe4\xb8\x80 HTTP/1.1\r\nHost: h\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        ((status, first),) = answers(exchange(port, two))
        assert status == 200
        assert json.loads(first) == {"path": "/a", "query": "x=%E4%B8%80", "body": "正文"}


def test_an_unparseable_request_is_refused_with_problem_json() -> None:
    with serving(echo) as port:
        raw = exchange(port, b"GET /a b c\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"application/problem+json" in head
    assert "百分号编码" in json.loads(body)["detail"]
