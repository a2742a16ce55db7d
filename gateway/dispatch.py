"""How the gateway answers one request: tenant, closed site, CORS, token, rate limit, cache,
service — in that order, which is the policy (the composition lives in gateway/app.py)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from gateway import oldurls
from gateway.accesslog import Outcome, record_access
from gateway.cache import CacheKey, ResponseCache, cache_route, normalise_query
from gateway.delivery import CachedExchange, SingleFlight, send_entry
from gateway.endpoints import OPERATOR_SCOPE_KEY, is_operator_path
from gateway.guard import Guard, problem, with_headers
from gateway.limits import forward_limited
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import ClientAddresses
from gateway.request import GatewayRequest, parse_request
from gateway.security import harden
from gateway.settings import GatewaySettings
from gateway.sitestatus import closed_site_response
from gateway.statistics import AccessEvents
from gateway.tenancy import SiteRegistry
from gateway.upstream import Upstream
from services.kernel.client import ServiceDirectory
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_HEADER, TENANT_HEADER, sign_edge
from services.kernel.errors import JiyueError, NotFound, UnknownSite

_TENANT_HEADER_B = TENANT_HEADER.encode()
_CLIENT_IP_HEADER_B = CLIENT_IP_HEADER.encode()
_EDGE_HEADER_B = EDGE_HEADER.encode()
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class GatewayDispatch:
    """The request path of `Gateway`; the attributes are what the composition root builds."""

    settings: GatewaySettings
    directory: ServiceDirectory
    upstreams: dict[str, Upstream]
    sites: SiteRegistry
    cache: ResponseCache | None
    flights: SingleFlight
    guard: Guard
    metrics: GatewayMetrics
    addresses: ClientAddresses
    edge_key: bytes
    https: bool
    cache_control: bytes
    access_log: bool
    access_events: AccessEvents | None
    own: Any

    # -- routing ----------------------------------------------------------------------

    def route(self, path: str) -> str | None:
        if path.startswith("/api/"):
            end = path.find("/", 5)
            name = path[5:end] if end != -1 else path[5:]
            return name if name in self.upstreams else None
        if path.startswith("/.well-known/"):
            return "identity" if "identity" in self.upstreams else None
        return None

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        outcome = Outcome()
        https = self.https or scope.get("scheme") == "https"

        async def send_out(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
                out = list(message.get("headers", ()))
                harden(out, https)
                message = {**message, "headers": out}
            else:
                outcome.size += len(message.get("body", b""))
            await send(message)

        req = parse_request(scope, receive, send_out, self.addresses, outcome)
        try:
            await self._dispatch(req)
        finally:
            seconds = time.perf_counter() - started
            method = req.method if req.method in _METHODS else "OTHER"
            self.metrics.observe(
                outcome.path or req.path, outcome.site or "-", method, outcome.status, seconds
            )
            if not req.trusted_caller:
                record_access(
                    outcome,
                    client=req.client.address,
                    method=req.method,
                    path=req.path,
                    ms=seconds * 1000,
                    log=self.access_log,
                    events=self.access_events,
                )

    async def _refuse(self, req: GatewayRequest, error: type[JiyueError], detail: str) -> None:
        await problem(error.status, error.slug, error.title, detail, req.path)(
            req.scope, req.receive, req.send
        )

    async def _dispatch(self, req: GatewayRequest) -> None:
        if not await self._resolve_site(req):
            return
        req.outcome.path = req.path
        target = self.route(req.path)
        req.outcome.service = target or "gateway"
        if target is None:
            if oldurls.may_be_old(req):
                moved = await oldurls.redirect(req, self.directory, self.sites)
                if moved is not None:
                    await moved(req.scope, req.receive, req.send)
                    return
            await self._own(req)
            return
        site = req.site
        if site is not None and site.status in ("suspended", "offline"):
            scheme = req.scope.get("scheme", "http")
            query = req.query.decode("latin-1")
            closed = closed_site_response(site, self.sites, req.method, req.path, query, scheme)
            if closed is not None:
                await closed(req.scope, req.receive, req.send)
                return
        if req.origin is not None:
            refusal, extra = self.guard.cors(req.origin, site, req.preflight, req.requested_headers, req.path)
            if refusal is not None:
                await refusal(req.scope, req.receive, req.send)
                return
            if extra:
                req.send = with_headers(req.send, extra)
        refusal = await self.guard.admit(
            req.method, req.path, req.authorization, req.client.limit_key, req.exempt
        )
        if refusal is not None:
            await refusal(req.scope, req.receive, req.send)
            return
        await self._forward(req, self.upstreams[target])

    async def _resolve_site(self, req: GatewayRequest) -> bool:
        """Find the tenant by /sites/{code} prefix or Host; False when the request was answered."""
        path = req.path
        if path.startswith("/sites/"):
            code, _, rest = path[7:].partition("/")
            site = self.sites.by_code.get(code)
            if site is None:
                await self._refuse(req, NotFound, f"站点 {code} 不存在")
                return False
            req.path = "/" + rest
            req.raw_path = req.raw_path[7 + len(code.encode()) :] or b"/"
            req.site = site
        elif req.host and not is_operator_path(path):
            # Probes and operator endpoints answer on any Host: the kubelet sends the pod's IP.
            hostname = self.sites.host_of(req.host)
            if hostname not in self.sites.platform_hosts:
                site = self.sites.by_host.get(hostname)
                if site is None:
                    await self._refuse(req, UnknownSite, f"未知站点域名 {hostname}")
                    return False
                req.site = site
        elif req.host:
            req.site = self.sites.by_host.get(self.sites.host_of(req.host))
        if req.site is not None:
            req.outcome.site = req.site.code
        return True

    async def _own(self, req: GatewayRequest) -> None:
        platform_host = req.host is None or self.sites.host_of(req.host) in self.sites.platform_hosts
        operator = req.internal or (platform_host and req.site is None)
        scope = dict(req.scope, path=req.path, raw_path=req.raw_path, **{OPERATOR_SCOPE_KEY: operator})
        await self.own(scope, req.receive, req.send)

    async def _forward(self, req: GatewayRequest, upstream: Upstream) -> None:
        site_code = req.site.code if req.site is not None else ""
        if site_code:
            req.headers.append((_TENANT_HEADER_B, site_code.encode()))
        req.headers.append((_CLIENT_IP_HEADER_B, req.client.address.encode()))
        edge = sign_edge(self.edge_key, req.method, req.raw_path, site_code, req.client.address)
        req.headers.append((_EDGE_HEADER_B, edge))

        route = cache_route(req.path) if req.method == "GET" else None
        if route is None:
            await forward_limited(
                req,
                upstream,
                json_limit=self.settings.gateway_body_limit_json,
                upload_limit=self.settings.gateway_body_limit_upload,
            )
            return
        req.query = normalise_query(req.query, route.params)
        anonymous = req.authorization is None
        cache = self.cache if anonymous else None
        key = (site_code, req.path, req.query, req.accept_encoding)
        if cache is None:
            await self._fill(req, upstream, None, key, route.kind)
            return
        entry = cache.get(key) or await self.flights.wait(key)
        if entry is not None:
            self.metrics.cache_hit.inc()
            await send_entry(req.send, entry, req.if_none_match, self.metrics)
            return
        self.metrics.cache_miss.inc()
        with self.flights.lead(key, cache):
            await self._fill(req, upstream, cache, key, route.kind)

    async def _fill(
        self, req: GatewayRequest, upstream: Upstream, cache: ResponseCache | None, key: CacheKey, kind: str
    ) -> None:
        anonymous = req.authorization is None
        exchange = CachedExchange(
            req.send,
            cache=cache,
            key=key,
            kind=kind,
            generation=cache.generation(key[0]) if cache is not None else 0,
            cache_control=self.cache_control if anonymous else b"private, no-cache",
            if_none_match=req.if_none_match,
            max_body=self.settings.gateway_cache_max_body,
            metrics=self.metrics,
        )
        await upstream(req.child_scope(), req.receive, exchange.send)
        await exchange.finish()
