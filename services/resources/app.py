"""The resources service's app."""

from __future__ import annotations

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir
from services.resources.api import router
from services.resources.models import feed_tables, metadata
from services.resources.settings import ResourcesSettings

NAME = "resources"
TITLE = "resources"
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
    return create_service_app(ctx, [router], title=TITLE)
