"""The search service's app."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.purge import periodic
from services.kernel.runtime import build_context, migrations_dir, read_or_create_secret
from services.search.analysis import get_analyzer
from services.search.api import root_router, router
from services.search.backends import make_backend
from services.search.indexing import mark_all_dirty
from services.search.interaction import InteractionIndexer
from services.search.models import feed_tables, metadata
from services.search.querying import Vocabulary
from services.search.querylog import QueryLogBuffer, forget_clients
from services.search.reindex import documents_fetcher, source_fetcher
from services.search.settings import SearchSettings
from services.search.state import SearchState
from services.search.workers import PublicationIndexer

NAME = "search"
TITLE = "search"
MIGRATIONS = migrations_dir(__file__)
settings_class = SearchSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: SearchSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or SearchSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    analyzer = get_analyzer(settings.search_dict_dir)
    backend = make_backend(settings, analyzer)
    state = SearchState(
        analyzer=analyzer,
        backend=backend,
        vocabulary=Vocabulary(analyzer, ctx.db),
        querylog=QueryLogBuffer(ctx.db, read_or_create_secret(settings, "search-log-salt")),
    )
    ctx.state = state
    source = settings.search_source
    ctx.consumers.append(
        PublicationIndexer(
            ctx.db,
            feed_tables,
            # All topics: a new publication.* state content adds later must not be missed.
            ctx.feed_fetcher(source),
            backend=backend,
            documents=documents_fetcher(ctx.directory, source),
            snapshot=source_fetcher(ctx.directory, source),
            flush_batch=settings.search_flush_batch,
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )

    ctx.consumers.append(
        InteractionIndexer(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher(settings.search_interaction_source),
            backend=backend,
            flush_batch=settings.search_flush_batch,
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )

    async def start() -> None:
        await backend.open()
        if backend.schema_reset:
            async with ctx.db.session() as session:
                await mark_all_dirty(session)
        # Load the dictionary off the event loop so the first query does not pay for it.
        await asyncio.to_thread(analyzer.cut, "预热")

    ctx.on_startup.append(start)
    ctx.workers.append(state.querylog.run)
    ctx.workers.append(periodic(ctx.db, "search-query-clients", 3600, forget_clients))
    ctx.on_shutdown.append(state.querylog.flush)
    ctx.on_shutdown.append(backend.close)
    ctx.readiness["search-engine"] = backend.ping
    return create_service_app(ctx, [router], title=TITLE, root_routers=[root_router])
