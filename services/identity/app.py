"""The identity service's app."""

from __future__ import annotations

from fastapi import FastAPI

from services.identity.api import router
from services.identity.models import feed_tables, metadata
from services.identity.settings import IdentitySettings
from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.runtime import build_context, migrations_dir

NAME = "identity"
TITLE = "identity"
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
    return create_service_app(ctx, [router], title=TITLE)
