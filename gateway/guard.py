"""What a request must pass before a service sees it: CORS, its bearer token, rate limits.

Each check answers with the ASGI response that refuses the request, or None to let it on.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.types import Message, Send

from gateway.metrics import GatewayMetrics
from gateway.ratelimit import RateLimiter
from gateway.security import CorsPolicy
from gateway.tenancy import SiteEntry
from services.kernel.app import problem_response
from services.kernel.auth import Principal, TokenVerifier
from services.kernel.errors import PROBLEM_BASE, CorsRefused, Problem, TooManyRequests, Unauthorized
from services.kernel.logs import request_id_var


def problem(status: int, slug: str, title: str, detail: str, path: str) -> Any:
    return problem_response(
        Problem(
            type=PROBLEM_BASE + slug,
            title=title,
            status=status,
            detail=detail,
            instance=path,
            request_id=request_id_var.get(),
        )
    )


def with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return sender


class Preflight:
    """The answer to an accepted CORS preflight."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.headers = headers

    async def __call__(self, scope: Any, receive: Any, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": self.headers})
        await send({"type": "http.response.body", "body": b""})


class Guard:
    def __init__(
        self, cors: CorsPolicy, verifier: TokenVerifier, limiter: RateLimiter, metrics: GatewayMetrics
    ) -> None:
        self.cors_policy = cors
        self.verifier = verifier
        self.limiter = limiter
        self.metrics = metrics

    def cors(
        self, origin: bytes, site: SiteEntry | None, preflight: bool, requested: bytes, path: str
    ) -> tuple[Any | None, list[tuple[bytes, bytes]] | None]:
        """(response that ends the exchange, headers to add to the service's answer)."""
        if not self.cors_policy.allows(origin, site):
            if preflight:
                detail = f"来源 {origin.decode('latin-1')} 不得跨域访问本站接口"
                return problem(CorsRefused.status, CorsRefused.slug, CorsRefused.title, detail, path), None
            return None, None  # no Access-Control headers: the browser withholds the answer
        if not preflight:
            return None, self.cors_policy.actual_headers(origin)
        allowed = self.cors_policy.preflight_headers(origin, requested)
        if allowed is None:
            return problem(
                CorsRefused.status, CorsRefused.slug, CorsRefused.title, "预检请求包含不允许的请求头", path
            ), None
        return Preflight(allowed), None

    async def admit(
        self, method: str, path: str, authorization: bytes | None, limit_key: str, exempt: bool
    ) -> Any | None:
        principal: Principal | None = None
        limited = self.limiter.enabled and not exempt
        if authorization is not None and authorization[:7].lower() == b"bearer ":
            try:
                principal = await self.verifier.verify(authorization[7:].strip().decode("latin-1"))
            except Unauthorized as exc:
                self.metrics.rejected_tokens.inc()
                # A forged token still costs its sender from the address bucket.
                if limited and self.limiter.address.take(limit_key):
                    return self.too_many(path, "address", 1.0)
                return problem_response(
                    exc.to_problem(instance=path, request_id=request_id_var.get()), exc.headers
                )
        if not limited or (principal is not None and principal.is_internal):
            return None
        subject = f"{principal.kind}:{principal.sub}" if principal is not None else None
        refused = self.limiter.check(method, path, limit_key, subject)
        return self.too_many(path, *refused) if refused is not None else None

    def too_many(self, path: str, bucket: str, wait: float) -> Any:
        self.metrics.rate_limited.labels(bucket).inc()
        seconds = max(1, math.ceil(wait))
        error = TooManyRequests(f"请求过于频繁（{bucket}），请 {seconds} 秒后再试")
        body = error.to_problem(instance=path, request_id=request_id_var.get())
        return problem_response(body, {"Retry-After": str(seconds)})
