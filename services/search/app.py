"""The search service's app."""

from __future__ import annotations

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir
from services.search.api import router
from services.search.models import feed_tables, metadata
from services.search.settings import SearchSettings

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
    return create_service_app(ctx, [router], title=TITLE)
