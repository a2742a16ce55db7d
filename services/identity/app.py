"""The identity service's app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.identity.api import root_routers, routers
from services.identity.models import feed_tables, metadata
from services.identity.service import keys
from services.identity.service.bootstrap import bootstrap
from services.identity.service.runtime import IdentityRuntime
from services.identity.settings import IdentitySettings
from services.identity.workers import purge_worker
from services.kernel.app import create_service_app
from services.kernel.auth import TokenVerifier
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir

NAME = "identity"
TITLE = "统一身份认证"
MIGRATIONS = migrations_dir(__file__)
settings_class = IdentitySettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: IdentitySettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or IdentitySettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    runtime = IdentityRuntime(settings)
    ctx.state = runtime

    async def local_jwks() -> dict[str, Any]:
        # Identity verifies its own tokens from its own table, never over HTTP to itself.
        async with ctx.db.session() as session:
            return await keys.jwks(session)

    ctx.verifier = TokenVerifier(
        local_jwks,
        issuer=settings.issuer,
        audience=settings.token_audience,
        cache_seconds=settings.jwks_cache_seconds,
        refetch_interval=1.0,
    )

    async def startup() -> None:
        await bootstrap(ctx.db, runtime)

    ctx.on_startup.append(startup)
    ctx.on_shutdown.append(runtime.federation.aclose)
    ctx.workers.append(purge_worker(ctx.db, settings.identity_purge_interval_seconds))
    return create_service_app(
        ctx,
        routers,
        title=TITLE,
        description="账号、机构、按站点授权的角色、令牌与单点登录（OAuth 2 / OIDC）、审计日志",
        root_routers=root_routers,
    )
