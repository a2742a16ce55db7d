"""The content service's app."""

from __future__ import annotations

from fastapi import FastAPI

from services.content.api import routers
from services.content.api.delivery import DeliveryCacheMiddleware
from services.content.models import feed_tables, metadata
from services.content.service.common import Hub, register_hub
from services.content.settings import ContentSettings
from services.content.workers import (
    cache_follower,
    push_worker,
    scheduler_worker,
    syndication_worker,
    takedown_consumer,
)
from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir

NAME = "content"
TITLE = "站点栏目与内容发布"
MIGRATIONS = migrations_dir(__file__)
settings_class = ContentSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: ContentSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or ContentSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    hub = Hub(settings.content_delivery_cache_entries)
    register_hub(ctx.db.engine.sync_engine, hub)
    ctx.extras["hub"] = hub
    ctx.workers.extend(
        [
            syndication_worker(ctx, hub),
            push_worker(ctx, hub, settings),
            scheduler_worker(ctx, settings),
            cache_follower(ctx, hub),
        ]
    )

    async def close_push_client() -> None:
        client = ctx.extras.get("push_client")
        if client is not None:
            await client.aclose()

    ctx.on_shutdown.append(close_push_client)
    ctx.consumers.append(takedown_consumer(ctx, settings))
    app = create_service_app(
        ctx,
        routers,
        title=TITLE,
        description="站点管理、栏目管理、内容发布与审核、转载、归档、新媒体推送与前台内容接口。",
    )
    app.add_middleware(DeliveryCacheMiddleware, cache=hub.cache, max_age=settings.content_delivery_max_age)
    return app
