"""Request-body limits by route class, enforced before any service parses a byte.

A declared Content-Length over the limit is refused at once; a body without one (chunked) is
counted as it streams, and the exchange ends in 413 the moment it passes the limit, whatever
the service was doing with it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Send

from gateway.guard import problem
from gateway.request import GatewayRequest
from services.kernel.errors import PayloadTooLarge

_UPLOAD_PREFIX = "/api/resources/"
_UPLOAD_SUFFIX = "/attachments"


def body_limit(method: str, path: str, *, json_limit: int, upload_limit: int) -> int:
    """Uploads (multipart attachments) may be large; every other API takes a small document."""
    if method in ("POST", "PUT") and path.startswith(_UPLOAD_PREFIX) and path.endswith(_UPLOAD_SUFFIX):
        return upload_limit
    return json_limit


class BodyTooLarge(Exception):
    pass


class CountedBody:
    """Wraps `receive` and `send`: counts the body and, once past the limit, silences the service
    so the gateway can answer 413 itself."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.seen = 0
        self.exceeded = False
        self.started = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for key, value in headers:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def forward_limited(
    req: GatewayRequest, upstream: ASGIApp, *, json_limit: int, upload_limit: int
) -> None:
    """Forward a request that may carry a body, within its route class's limit."""
    if req.trusted_caller:  # in-process operator tooling: imports may be large
        await upstream(req.child_scope(), req.receive, req.send)
        return
    limit = body_limit(req.method, req.path, json_limit=json_limit, upload_limit=upload_limit)
    declared = declared_length(req.headers)
    if declared is not None and declared > limit:
        await _too_large(req, limit)
        return
    counted = CountedBody(req.receive, req.send, limit)
    try:
        await upstream(req.child_scope(), counted.receive, counted.send)
    except Exception:
        # Past the limit the body read fails inside the service (or the upstream client);
        # that failure is ours to answer, anything else is not.
        if not counted.exceeded:
            raise
    if counted.exceeded and not counted.started:
        await _too_large(req, limit)


async def _too_large(req: GatewayRequest, limit: int) -> None:
    detail = f"请求体超过此接口的上限 {limit} 字节"
    await problem(PayloadTooLarge.status, PayloadTooLarge.slug, PayloadTooLarge.title, detail, req.path)(
        req.scope, req.receive, req.send
    )
