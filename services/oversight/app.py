"""The oversight service's app: inspection scorecards and visit statistics."""

from __future__ import annotations

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir
from services.oversight.api.dashboard import router as dashboard_router
from services.oversight.api.scorecards import router as scorecards_router
from services.oversight.api.statistics import router as statistics_router
from services.oversight.models import feed_tables, metadata
from services.oversight.settings import OversightSettings
from services.oversight.workers import ContentFollower, evaluator

NAME = "oversight"
TITLE = "oversight"
MIGRATIONS = migrations_dir(__file__)
settings_class = OversightSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: OversightSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or OversightSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    source = settings.oversight_source
    ctx.consumers.append(
        ContentFollower(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher(
                source,
                [
                    "site.created",
                    "site.updated",
                    "site.status",
                    "column.created",
                    "column.updated",
                    "column.moved",
                    "column.deleted",
                    "publication.published",
                    "publication.archived",
                    "publication.moved",
                    "publication.updated",
                    "publication.withdrawn",
                ],
            ),
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    ctx.workers.append(evaluator(ctx.db, feed_tables, settings.oversight_evaluate_seconds))
    return create_service_app(ctx, [scorecards_router, statistics_router, dashboard_router], title=TITLE)
