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

from gateway.accesslog import Outcome, configure_access_log, write_access
from gateway.cache import ResponseCache, cache_kind
from gateway.delivery import CachedExchange, SingleFlight, send_entry
from gateway.endpoints import own_app
from gateway.guard import Guard, problem, with_headers
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import ClientAddresses, RateLimiter
from gateway.security import CorsPolicy, harden
from gateway.server import serve_lifespan
from gateway.settings import GatewaySettings
from gateway.sitestatus import closed_site_response
from gateway.statistics import AccessEvents
from gateway.tenancy import SiteEntry, SiteRegistry
from gateway.upstream import LocalUpstream, RemoteUpstream, ReplicaSet, Upstream
from services import registry
from services.kernel.app import RequestIdMiddleware
from services.kernel.auth import TokenVerifier
from services.kernel.deps import CLIENT_IP_HEADER, TENANT_HEADER
from services.kernel.errors import NotFound, UnknownSite
from services.kernel.logs import configure_logging, request_id_var
from services.kernel.runtime import make_directory

log = logging.getLogger("jiyue.gateway")
TRUSTED_SCOPE_KEY = "jiyue.trusted"

_TENANT_HEADER_B = TENANT_HEADER.encode()
_CLIENT_IP_HEADER_B = CLIENT_IP_HEADER.encode()
_GATEWAY_ONLY = (_TENANT_HEADER_B, _CLIENT_IP_HEADER_B)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DEFAULT_PLATFORM_HOSTS = ["localhost", "127.0.0.1", "::1", "testserver", "gateway"]


class Gateway:
    def __init__(self, settings: GatewaySettings, services: list[str] | None = None) -> None:
        self.settings = settings
        configure_logging(settings.log_level, settings.log_json)
        if settings.gateway_access_log:
            configure_access_log()
        self.metrics = GatewayMetrics()
        self.directory = make_directory(settings)
        self.upstreams: dict[str, Upstream] = {}
        self.local_apps: dict[str, FastAPI] = {}
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
                max_entries=settings.gateway_cache_max_entries,
                max_body=settings.gateway_cache_max_body,
                ttl=settings.gateway_cache_ttl_seconds,
                search_ttl=settings.gateway_cache_search_ttl_seconds,
            )
        self.sites.listeners.append(self._on_content_events)
        self.limiter = RateLimiter(settings)
        self.addresses = ClientAddresses(settings.gateway_rate_exempt, settings.gateway_trusted_proxies)
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
        if name == "content" and ctx is not None:
            # Content may call this after a commit so that caches drop at once, not at the next poll.
            ctx.extras["gateway.wake"] = lambda: self.sites.wake()

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
            with contextlib.suppress(Exception):
                await self.sites.load()
            self._stop.clear()
            interval = self.settings.gateway_feed_poll_seconds
            self._tasks = [asyncio.create_task(self.sites.follow(self._stop, interval))]
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
        method: str = scope["method"]
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode()
        host = authorization = origin = if_none_match = forwarded = None
        accept_encoding = b""
        preflight = False
        headers: list[tuple[bytes, bytes]] = []
        for key, value in scope["headers"]:
            if key in _GATEWAY_ONLY:
                continue  # only the gateway says which tenant and which client a request is
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
            elif key == b"x-forwarded-for":
                forwarded = value
            headers.append((key, value))

        peer = scope.get("client")
        address, limit_key, exempt, trusted = self.addresses.describe(str(peer[0]) if peer else "unknown")
        if trusted and forwarded:
            address, limit_key, exempt, _ = self.addresses.describe(
                forwarded.decode("latin-1").rsplit(",", 1)[-1].strip()
            )

        # In-process operator tooling (demo seeding, imports) is not a client to be limited.
        trusted_caller = scope.get(TRUSTED_SCOPE_KEY, False)
        if trusted_caller:
            exempt = True
        outcome = Outcome()
        https = scope.get("scheme") == "https"

        async def send_out(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
                out = list(message.get("headers", ()))
                harden(out, https)
                message = {**message, "headers": out}
            else:
                outcome.size += len(message.get("body", b""))
            await send(message)

        try:
            await self._dispatch(
                scope, receive, send_out, outcome, method, path, raw_path, host, authorization,
                origin, if_none_match, accept_encoding, preflight, headers, address, limit_key, exempt,
            )  # fmt: skip
        finally:
            seconds = time.perf_counter() - started
            site_label = outcome.site or "-"
            self.metrics.observe(
                outcome.path or path,
                site_label,
                method if method in _METHODS else "OTHER",
                outcome.status,
                seconds,
            )
            if self.access_events is not None and not trusted_caller:
                self.access_events.add(
                    client=address, method=method, path=path, status=outcome.status, site=outcome.site
                )
            if self.access_log and not trusted_caller:
                write_access(
                    request_id=request_id_var.get(),
                    client=address,
                    method=method,
                    path=path,
                    status=outcome.status,
                    ms=seconds * 1000,
                    site=outcome.site,
                    service=outcome.service,
                    size=outcome.size,
                )

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, outcome: Outcome, method: str,
                        path: str, raw_path: bytes, host: bytes | None, authorization: bytes | None,
                        origin: bytes | None, if_none_match: bytes | None, accept_encoding: bytes,
                        preflight: bool, headers: list[tuple[bytes, bytes]], address: str, limit_key: str,
                        exempt: bool) -> None:  # fmt: skip
        site: SiteEntry | None = None
        if path.startswith("/sites/"):
            code, _, rest = path[7:].partition("/")
            site = self.sites.by_code.get(code)
            if site is None:
                await problem(NotFound.status, NotFound.slug, NotFound.title, f"站点 {code} 不存在", path)(
                    scope, receive, send
                )
                return
            path = "/" + rest
            raw_path = raw_path[7 + len(code.encode()) :] or b"/"
        elif host:
            hostname = self.sites.host_of(host)
            if hostname not in self.sites.platform_hosts:
                site = self.sites.by_host.get(hostname)
                if site is None:
                    detail = f"未知站点域名 {hostname}"
                    await problem(UnknownSite.status, UnknownSite.slug, UnknownSite.title, detail, path)(scope, receive, send)
                    return
        outcome.path = path
        if site is not None:
            outcome.site = site.code

        target = self.route(path)
        outcome.service = target or "gateway"
        if target is None:
            await self.own(dict(scope, path=path, raw_path=raw_path), receive, send)
            return
        query = scope.get("query_string", b"")
        if site is not None and site.status in ("suspended", "offline"):
            scheme = scope.get("scheme", "http")
            closed = closed_site_response(site, self.sites, method, path, query.decode("latin-1"), scheme)
            if closed is not None:
                await closed(scope, receive, send)
                return

        if origin is not None:
            requested = next((v for k, v in headers if k == b"access-control-request-headers"), b"")
            refusal, extra = self.guard.cors(origin, site, preflight, requested, path)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if extra:
                send = with_headers(send, extra)
        refusal = await self.guard.admit(method, path, authorization, limit_key, exempt)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        if site is not None:
            headers.append((_TENANT_HEADER_B, site.code.encode()))
        headers.append((_CLIENT_IP_HEADER_B, address.encode()))
        child = dict(scope, path=path, raw_path=raw_path, headers=headers)
        upstream = self.upstreams[target]

        kind = cache_kind(path) if method == "GET" else None
        if kind is None:
            await upstream(child, receive, send)
            return
        anonymous = authorization is None
        cache = self.cache if anonymous else None
        key = (site.code if site is not None else "", path, query, accept_encoding)
        if cache is not None:
            entry = cache.get(key) or await self.flights.wait(key)
            if entry is not None:
                self.metrics.cache_hit.inc()
                await send_entry(send, entry, if_none_match, self.metrics)
                return
            self.metrics.cache_miss.inc()
            with self.flights.lead(key, cache):
                await self._fill(send, child, receive, upstream, cache, key, kind, if_none_match, anonymous)
            return
        await self._fill(send, child, receive, upstream, cache, key, kind, if_none_match, anonymous)

    async def _fill(self, send: Send, child: Scope, receive: Receive, upstream: Upstream,
                    cache: ResponseCache | None, key: tuple[str, str, bytes, bytes], kind: str,
                    if_none_match: bytes | None, anonymous: bool) -> None:  # fmt: skip
        exchange = CachedExchange(
            send,
            cache=cache,
            key=key,
            kind=kind,
            generation=cache.generation(key[0]) if cache is not None else 0,
            cache_control=self.cache_control if anonymous else b"private, no-cache",
            if_none_match=if_none_match,
            max_body=self.settings.gateway_cache_max_body,
            metrics=self.metrics,
        )
        await upstream(child, receive, exchange.send)
        await exchange.finish()


def create_gateway(settings: GatewaySettings | None = None, services: list[str] | None = None) -> Any:
    gateway = Gateway(settings or GatewaySettings(), services)
    app = RequestIdMiddleware(gateway)
    app.gateway = gateway  # type: ignore[attr-defined]
    return app
