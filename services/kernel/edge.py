"""Signed gateway context: which site and which client a request is for, as the gateway saw it.

The gateway strips any copy of the tenant and client-address headers a caller sends and signs
the ones it sets (`x-jiyue-edge`: an HMAC-SHA256 over method, path, site, client address and a
timestamp, keyed from the platform's internal secret). A service served on its own socket
(split mode) believes those headers only under a valid, fresh signature; a request that
carries them without one, or with a forged or stale one, is refused before any route runs.
Calls inside one process (embedded mode, service to service through the directory) never
cross a socket and carry no edge header; they are trusted as internal.

Contract other services rely on: `x-jiyue-edge` present ⇒ the request came through the public
gateway (identity refuses the internal machine client there).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kernel import clock
from services.kernel.errors import PROBLEM_MEDIA_TYPE, BadRequest, Forbidden, JiyueError
from services.kernel.logs import request_id_var

EDGE_HEADER = "x-jiyue-edge"
TENANT_HEADER = "x-jiyue-site"
CLIENT_IP_HEADER = "x-jiyue-client-ip"
# The gateway and the services run on clocks kept by NTP; a minute covers skew and queueing.
MAX_AGE_SECONDS = 60
_VERSION = "v1"
_KEY_LABEL = b"jiyue edge context v1"

_EDGE_B = EDGE_HEADER.encode()
_TENANT_B = TENANT_HEADER.encode()
_CLIENT_B = CLIENT_IP_HEADER.encode()
EDGE_SCOPE_KEY = "jiyue.edge"


def edge_key(internal_secret: str) -> bytes:
    """A key for edge signatures alone, derived from the shared internal secret."""
    return hmac.new(internal_secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, method: str, path: bytes, site: str, client: str, stamp: int) -> str:
    message = b"\n".join([method.encode(), path, site.encode(), client.encode(), str(stamp).encode()])
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_edge(key: bytes, method: str, path: bytes, site: str, client: str) -> bytes:
    """The `x-jiyue-edge` value for one forwarded request (`path`: raw path, no query)."""
    stamp = int(clock.epoch())
    return f"{_VERSION}.{stamp}.{_mac(key, method, path, site, client, stamp)}".encode()


@dataclass(frozen=True, slots=True)
class EdgeContext:
    site: str | None
    client: str | None


def verify_edge(key: bytes, value: str, method: str, path: bytes, site: str, client: str) -> EdgeContext:
    """The context a valid, fresh signature vouches for; raises Forbidden otherwise."""
    version, _, rest = value.partition(".")
    stamp_text, _, mac = rest.partition(".")
    if version != _VERSION or not stamp_text.isdigit() or not mac:
        raise BadRequest(f"{EDGE_HEADER} 格式无效")
    stamp = int(stamp_text)
    if abs(clock.epoch() - stamp) > MAX_AGE_SECONDS:
        raise Forbidden(f"{EDGE_HEADER} 已过期：请求须经网关转发")
    if not hmac.compare_digest(mac, _mac(key, method, path, site, client, stamp)):
        raise Forbidden(f"{EDGE_HEADER} 签名无效：站点与客户端地址只能由网关设置")
    return EdgeContext(site or None, client or None)


class EdgeGuard:
    """In front of a service served on its own socket: believe gateway context only if signed."""

    def __init__(self, app: ASGIApp, key: bytes) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        edge = site = client = None
        for name, value in scope["headers"]:
            if name == _EDGE_B:
                edge = value.decode("latin-1")
            elif name == _TENANT_B:
                site = value.decode("latin-1")
            elif name == _CLIENT_B:
                client = value.decode("latin-1")
        try:
            if edge is None:
                if site is not None or client is not None:
                    raise Forbidden(f"{TENANT_HEADER} / {CLIENT_IP_HEADER} 只能由网关设置")
                context = None
            else:
                raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
                context = verify_edge(self.key, edge, scope["method"], raw_path, site or "", client or "")
        except JiyueError as exc:
            problem = exc.to_problem(instance=scope["path"], request_id=request_id_var.get())
            response = JSONResponse(
                problem.model_dump(exclude_none=True), exc.status, media_type=PROBLEM_MEDIA_TYPE
            )
            await response(scope, receive, send)
            return
        await self.app({**scope, EDGE_SCOPE_KEY: context}, receive, send)
