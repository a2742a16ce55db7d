"""The gateway: the platform's one door and its composition root.

It is a plain ASGI callable rather than a FastAPI app so that routing a request costs a
prefix check and a dict lookup; its own few endpoints live in a small FastAPI app beside it
(gateway/endpoints.py), and the path of a request in gateway/dispatch.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from gateway.accesslog import configure_access_log
from gateway.cache import ResponseCache
from gateway.delivery import SingleFlight
from gateway.dispatch import GatewayDispatch
from gateway.endpoints import (
    DOCS_ASSETS,
    OPERATOR_PATHS,
    learn_routes,
    own_app,
)
from gateway.guard import Guard
from gateway.metrics import GatewayMetrics
from gateway.ratelimit import ClientAddresses, RateLimiter
from gateway.request import TRUSTED_SCOPE_KEY
from gateway.security import CorsPolicy
from gateway.server import serve_lifespan
from gateway.settings import GatewaySettings
from gateway.statistics import AccessEvents
from gateway.tenancy import SiteRegistry
from gateway.upstream import LocalUpstream, RemoteUpstream, ReplicaSet, Upstream
from services import registry
from services.kernel.app import RequestIdMiddleware
from services.kernel.auth import TokenVerifier
from services.kernel.context import ServiceContext
from services.kernel.edge import edge_key
from services.kernel.logs import configure_logging
from services.kernel.runtime import internal_secret, make_directory

log = logging.getLogger("jiyue.gateway")

DEFAULT_PLATFORM_HOSTS = ["localhost", "127.0.0.1", "::1", "testserver", "gateway"]


class Gateway(GatewayDispatch):
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


def create_gateway(settings: GatewaySettings | None = None, services: list[str] | None = None) -> Any:
    gateway = Gateway(settings or GatewaySettings(), services)
    app = RequestIdMiddleware(gateway)
    app.gateway = gateway  # type: ignore[attr-defined]
    return app
