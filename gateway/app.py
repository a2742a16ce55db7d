"""The gateway: the platform's one door and its composition root.

It is a plain ASGI callable rather than a FastAPI app so that routing a request costs a
prefix check and a dict lookup; its own few endpoints live in a small FastAPI app beside it
(gateway/endpoints.py). The order of the checks in `_http` is the policy: tenant, closed
site, CORS preflight, token, rate limit, cache, service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from gateway import oldurls
from gateway.accesslog import Outcome, configure_access_log, record_access
from gateway.cache import CacheKey, ResponseCache, cache_route, normalise_query
from gateway.delivery import CachedExchange, SingleFlight, send_entry
from gateway.endpoints import (
    DOCS_ASSETS,
    OPERATOR_PATHS,
    OPERATOR_SCOPE_KEY,
    is_operator_path,
    learn_routes,
    own_app,
)
from gateway.guard import Guard, problem, with_headers
from gateway.limits import forward_limited
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import ClientAddresses, RateLimiter
from gateway.request import TRUSTED_SCOPE_KEY, GatewayRequest, parse_request
from gateway.security import CorsPolicy, harden
from gateway.server import serve_lifespan
from gateway.settings import GatewaySettings
from gateway.sitestatus import closed_site_response
from gateway.statistics import AccessEvents
from gateway.tenancy import SiteRegistry
from gateway.upstream import LocalUpstream, RemoteUpstream, ReplicaSet, Upstream
from services import registry
from services.kernel.app import RequestIdMiddleware
from services.kernel.auth import TokenVerifier
from services.kernel.context import ServiceContext
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_HEADER, TENANT_HEADER, edge_key, sign_edge
from services.kernel.errors import JiyueError, NotFound, UnknownSite
from services.kernel.logs import configure_logging
from services.kernel.runtime import internal_secret, make_directory

log = logging.getLogger("jiyue.gateway")

_TENANT_HEADER_B = TENANT_HEADER.encode()
_CLIENT_IP_HEADER_B = CLIENT_IP_HEADER.encode()
_EDGE_HEADER_B = EDGE_HEADER.encode()
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DEFAULT_PLATFORM_HOSTS = ["localhost", "127.0.0.1", "::1", "testserver", "gateway"]


class Gateway:
    def __init__(self, settings: GatewaySettings, services: list[str] | None = None) -> None:
        self.settings = settings
        configure_logging(settings.log_level, settings.log_json)
        if settings.gateway_access_log:
            configure_access_log()
        self.metrics = GatewayMetrics()
        self.metrics.routes.add([*OPERATOR_PATHS, DOCS_ASSETS + "/{file}"])
        self.directory = make_directory(settings)
        self.upstreams: dict[str, Upstream] = {}
        self.local_apps: dict[str, FastAPI] = {}
        self._content_rings = False
        for spec in registry.SERVICES:
            if services is not None and spec.name not in services:
                continue
            url = settings.gateway_backends.get(spec.name)
            if url:
                self.add_remote(spec.name, url)
            else:
                module = spec.app_module
                service_settings = module.settings_class(**self._shared_settings())
                self.add_local(spec.name, module.create_app(service_settings, directory=self.directory))
        hosts = [*DEFAULT_PLATFORM_HOSTS, *settings.gateway_platform_hosts]
        public_host = urlsplit(settings.public_url).hostname
        if public_host:
            hosts.append(public_host)
        self.sites = SiteRegistry(self.directory, hosts)
        self.cache: ResponseCache | None = None
        self.flights = SingleFlight()
        if settings.gateway_cache:
            self.cache = ResponseCache(
                max_bytes=settings.gateway_cache_max_bytes,
                max_body=settings.gateway_cache_max_body,
                ttl=settings.gateway_cache_ttl_seconds,
                search_ttl=settings.gateway_cache_search_ttl_seconds,
            )
        self.sites.listeners.append(self._on_content_events)
        self.limiter = RateLimiter(settings)
        self.addresses = ClientAddresses(
            settings.gateway_rate_exempt, settings.gateway_trusted_proxies, settings.gateway_internal_networks
        )
        self.edge_key = edge_key(internal_secret(settings))
        # Behind a TLS-terminating ingress the socket is plain HTTP; the public URL says what
        # browsers use, and so whether to pin them to HTTPS.
        self.https = settings.public_url.startswith("https://")
        self.cors = CorsPolicy(self.sites, settings.gateway_cors_origins)
        verifier = TokenVerifier(
            self._fetch_jwks,
            issuer=settings.issuer,
            audience=settings.token_audience,
            cache_seconds=settings.jwks_cache_seconds,
        )
        self.guard = Guard(self.cors, verifier, self.limiter, self.metrics)
        self.cache_control = f"public, max-age={settings.gateway_cache_max_age}".encode()
        self.access_log = settings.gateway_access_log
        self.own = own_app(self)
        # Visit statistics go to oversight when the platform runs it.
        self.access_events = AccessEvents(self.directory) if "oversight" in self.upstreams else None
        self.openapi_doc: dict[str, Any] | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def verifier(self) -> TokenVerifier:
        """The same verification as the services (identity's JWKS, cached)."""
        return self.guard.verifier

    @verifier.setter
    def verifier(self, value: TokenVerifier) -> None:
        self.guard.verifier = value

    def _shared_settings(self) -> dict[str, Any]:
        """Values the gateway was configured with that every in-process service must share."""
        return {
            k: v
            for k, v in self.settings.model_dump().items()
            if k in self.settings.model_fields_set and not k.startswith("gateway_")
        }

    def add_local(self, name: str, app: Any) -> None:
        """Serve a service's ASGI app in this process (the registry's, or a test double)."""
        self.local_apps[name] = app
        self.upstreams[name] = LocalUpstream(name, app)
        self.directory.register_app(name, app)
        ctx = getattr(getattr(app, "state", None), "ctx", None)
        if name == "content" and isinstance(ctx, ServiceContext):
            # Site and publication changes drop cached answers at once, not at the next feed read.
            ctx.emit_listeners.append(lambda: self.sites.wake())  # self.sites exists once __init__ ends
            self._content_rings = True

    def add_remote(self, name: str, url: str) -> None:
        """A service over HTTP; `url` may list several replicas separated by commas."""
        urls = [u.strip() for u in url.split(",") if u.strip()]
        replicas = [
            RemoteUpstream(
                name,
                u,
                timeout=self.settings.gateway_upstream_timeout,
                connect_timeout=self.settings.gateway_connect_timeout,
                breaker_seconds=self.settings.gateway_breaker_seconds,
                on_error=lambda service, kind: self.metrics.upstream_errors.labels(service, kind).inc(),
            )
            for u in urls
        ]
        self.upstreams[name] = replicas[0] if len(replicas) == 1 else ReplicaSet(name, replicas)
        self.directory.register_url(name, urls[0])

    async def _fetch_jwks(self) -> dict[str, Any]:
        resp = await self.directory.raw("identity").get("/.well-known/jwks.json")
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def _on_content_events(self, events: list[dict[str, Any]]) -> None:
        if self.cache is None:
            return
        for event in events:
            topic = str(event.get("topic", ""))
            site = event.get("site_id")
            if topic.startswith("site."):
                site = site or event.get("key")
            elif not topic.startswith(("publication.", "column.")):
                continue
            self.cache.invalidate_site(site)

    # -- lifespan ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for app in self.local_apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
                if isinstance(app, FastAPI):
                    # metrics label requests by the templates the services declare
                    self.metrics.routes.add(app.openapi().get("paths", {}))
            with contextlib.suppress(Exception):
                await self.sites.load()
            self._stop.clear()
            interval = self.settings.gateway_feed_poll_seconds
            if self._content_rings:
                interval = max(interval, self.settings.gateway_feed_rung_poll_seconds)
            self._tasks = [asyncio.create_task(self.sites.follow(self._stop, interval))]
            if len(self.local_apps) < len(self.upstreams):
                self._tasks.append(asyncio.create_task(learn_routes(self, self._stop)))
            if self.access_events is not None:
                self._tasks.append(asyncio.create_task(self.access_events.run(self._stop)))
            try:
                yield
            finally:
                self._stop.set()
                for t in self._tasks:
                    t.cancel()
                for upstream in self.upstreams.values():
                    if isinstance(upstream, RemoteUpstream | ReplicaSet):
                        await upstream.aclose()
                await self.directory.aclose()

    # -- routing ----------------------------------------------------------------------

    def route(self, path: str) -> str | None:
        if path.startswith("/api/"):
            end = path.find("/", 5)
            name = path[5:end] if end != -1 else path[5:]
            return name if name in self.upstreams else None
        if path.startswith("/.well-known/"):
            return "identity" if "identity" in self.upstreams else None
        return None

    async def trusted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The gateway for in-process operator tooling: no rate limits, no access log.

        Only code in this process can reach it; nothing arriving over the network can set the
        scope key, so a client cannot claim to be trusted.
        """
        await self(dict(scope, **{TRUSTED_SCOPE_KEY: True}), receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await serve_lifespan(self.lifespan, receive, send)
            return
        if kind != "http":
            return
        await self._http(scope, receive, send)

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


def create_gateway(settings: GatewaySettings | None = None, services: list[str] | None = None) -> Any:
    gateway = Gateway(settings or GatewaySettings(), services)
    app = RequestIdMiddleware(gateway)
    app.gateway = gateway  # type: ignore[attr-defined]
    return app
