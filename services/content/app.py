"""The content service's app."""

from __future__ import annotations

from fastapi import FastAPI

from services.content.api import routers
from services.content.api.delivery import DeliveryCacheMiddleware
from services.content.models import feed_tables, metadata
from services.content.newmedia_worker import newmedia_worker
from services.content.service.cache import DeliveryCache
from services.content.service.common import ContentState, session_options
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
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
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
    allow = parse_allow(settings.outbound_allow)
    policy = OutboundPolicy(allow=allow, deadline_seconds=settings.content_push_timeout_seconds)
    state = ContentState(
        DeliveryCache(settings.content_delivery_cache_entries), OutboundClient(policy), outbound_allow=allow
    )
    ctx.state = state
    # Content's commit hooks live on its own session class, so only its sessions run them.
    ctx.db.sessionmaker.configure(**session_options(state))
    ctx.workers.extend(
        [
            syndication_worker(ctx, state, settings),
            push_worker(ctx, state, settings),
            newmedia_worker(ctx, state, settings),
            scheduler_worker(ctx, settings),
            cache_follower(ctx, state),
        ]
    )

    async def close_push_client() -> None:
        await state.push_client.aclose()

    ctx.on_shutdown.append(close_push_client)
    ctx.consumers.append(takedown_consumer(ctx, settings))
    app = create_service_app(
        ctx,
        routers,
        title=TITLE,
        description="站点管理、栏目管理、内容发布与审核、转载、归档、新媒体推送与前台内容接口。",
    )
    app.add_middleware(DeliveryCacheMiddleware, cache=state.cache, max_age=settings.content_delivery_max_age)
    return app
