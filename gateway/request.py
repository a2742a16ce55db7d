"""One request as the gateway's stages see it, parsed from the ASGI scope once."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from gateway.accesslog import Outcome
from gateway.ratelimit import ClientAddress, ClientAddresses
from gateway.tenancy import SiteEntry
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_HEADER, TENANT_HEADER

# Only the gateway says which tenant and which client a request is, and signs that it did.
_GATEWAY_ONLY = frozenset({TENANT_HEADER.encode(), CLIENT_IP_HEADER.encode(), EDGE_HEADER.encode()})
TRUSTED_SCOPE_KEY = "jiyue.trusted"


@dataclass(slots=True)
class GatewayRequest:
    scope: Scope
    receive: Receive
    send: Send
    method: str
    path: str  # without a /sites/{code} prefix once the site is known
    raw_path: bytes
    query: bytes
    # What is forwarded: the client's headers less the gateway-only ones.
    headers: list[tuple[bytes, bytes]]
    client: ClientAddress
    outcome: Outcome
    host: bytes | None = None
    authorization: bytes | None = None
    origin: bytes | None = None
    if_none_match: bytes | None = None
    accept_encoding: bytes = b""
    requested_headers: bytes = b""
    preflight: bool = False
    # In-process operator tooling (demo seeding, imports): not a client to be limited.
    trusted_caller: bool = False
    site: SiteEntry | None = None

    @property
    def exempt(self) -> bool:
        return self.trusted_caller or self.client.exempt

    @property
    def internal(self) -> bool:
        """Called from the platform's own networks or by in-process tooling."""
        return self.trusted_caller or self.client.internal

    def child_scope(self) -> Scope:
        return dict(
            self.scope, path=self.path, raw_path=self.raw_path, query_string=self.query, headers=self.headers
        )


def parse_request(
    scope: Scope, receive: Receive, send: Send, addresses: ClientAddresses, outcome: Outcome
) -> GatewayRequest:
    method: str = scope["method"]
    path: str = scope["path"]
    headers: list[tuple[bytes, bytes]] = []
    host = authorization = origin = if_none_match = forwarded = None
    accept_encoding = requested = b""
    preflight = False
    for key, value in scope["headers"]:
        if key in _GATEWAY_ONLY:
            continue
        if key == b"host":
            host = value
        elif key == b"authorization":
            authorization = value
        elif key == b"origin":
            origin = value
        elif key == b"if-none-match":
            if_none_match = value
        elif key == b"accept-encoding":
            accept_encoding = value
        elif key == b"access-control-request-method":
            preflight = method == "OPTIONS"
        elif key == b"access-control-request-headers":
            requested = value
        elif key == b"x-forwarded-for":
            forwarded = value
        headers.append((key, value))
    peer = scope.get("client")
    return GatewayRequest(
        scope=scope,
        receive=receive,
        send=send,
        method=method,
        path=path,
        raw_path=scope.get("raw_path") or path.encode(),
        query=scope.get("query_string", b""),
        headers=headers,
        client=addresses.client(str(peer[0]) if peer else "unknown", forwarded),
        outcome=outcome,
        host=host,
        authorization=authorization,
        origin=origin,
        if_none_match=if_none_match,
        accept_encoding=accept_encoding,
        requested_headers=requested,
        preflight=preflight,
        trusted_caller=bool(scope.get(TRUSTED_SCOPE_KEY, False)),
    )
