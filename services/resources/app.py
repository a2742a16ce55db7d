"""The resources service's app: 信息资源库."""

from __future__ import annotations

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir
from services.resources.api import routers
from services.resources.models import feed_tables, metadata
from services.resources.review import default_reviewer
from services.resources.service.vocab import load_vocabularies
from services.resources.settings import ResourcesSettings
from services.resources.state import ResourcesState
from services.resources.storage import make_store
from services.resources.workers import PUBLICATION_TOPICS, UsageConsumer, content_snapshot, purge_worker

NAME = "resources"
TITLE = "信息资源库"
DESCRIPTION = "统一元数据、先入库后使用、对象存储、机器审查、共享与使用监管"
MIGRATIONS = migrations_dir(__file__)
settings_class = ResourcesSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: ResourcesSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or ResourcesSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    store = make_store(settings)
    ctx.state = ResourcesState(
        store=store,
        reviewer=default_reviewer(settings.resources_lexicon_dir),
        vocab=load_vocabularies(settings.resources_lexicon_dir),
    )
    ctx.on_startup.append(store.start)
    ctx.readiness["objects"] = store.ping
    ctx.consumers.append(
        UsageConsumer(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher("content", topics=PUBLICATION_TOPICS),
            snapshot=content_snapshot(ctx.directory),
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    ctx.workers.append(purge_worker(ctx, store, settings.resources_purge_interval_seconds))
    return create_service_app(ctx, routers, title=TITLE, description=DESCRIPTION)
