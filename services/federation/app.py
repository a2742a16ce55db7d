"""The federation service's app: peer platforms (互联互通) and the feeds each side follows."""

from __future__ import annotations

from fastapi import FastAPI

from services.federation.api.peer_feed import router as peer_feed_router
from services.federation.api.peer_tasks import router as peer_tasks_router
from services.federation.api.peers import router as peers_router
from services.federation.api.reports import router as reports_router
from services.federation.api.shared_resources import router as shared_resources_router
from services.federation.models import feed_tables, metadata
from services.federation.settings import FederationSettings
from services.federation.shared_workers import usage_sync
from services.federation.state import FederationState
from services.federation.workers import ContentRelay, followers
from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir

NAME = "federation"
TITLE = "互联互通"
MIGRATIONS = migrations_dir(__file__)
settings_class = FederationSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: FederationSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or FederationSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    state = FederationState(settings)
    ctx.state = state
    ctx.consumers.append(
        ContentRelay(
            ctx,
            settings.federation_content_source,
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    ctx.workers.append(followers(ctx, state))
    ctx.workers.append(usage_sync(ctx, state))

    async def close_client() -> None:
        await state.outbound.aclose()

    ctx.on_shutdown.append(close_client)
    return create_service_app(
        ctx,
        [peers_router, peer_feed_router, peer_tasks_router, reports_router, shared_resources_router],
        title=TITLE,
        description="与上级（省级）及下级平台互联：互联平台登记、公开信息与网站基本信息的变更订阅、跨平台转载。",
    )
