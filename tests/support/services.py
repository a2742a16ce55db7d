"""Running one service's app, migrated on a fresh database, for its own tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from services import registry
from services.kernel import migrations
from tests.support.tokens import ISSUER, TestIssuer


def service_settings(name: str, data_dir: Path, **overrides: Any) -> Any:
    module = registry.get(name).app_module
    base = {"data_dir": data_dir, "public_url": ISSUER}
    base.update(overrides)
    return module.settings_class(**base)


async def migrate_service(name: str, settings: Any) -> None:
    module = registry.get(name).app_module
    await migrations.upgrade(migrations.alembic_config(name, module.MIGRATIONS, settings))


@contextlib.asynccontextmanager
async def running_service(
    name: str,
    data_dir: Path,
    issuer: TestIssuer | None = None,
    *,
    run_workers: bool = False,
    **overrides: Any,
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The service app (migrated, lifespan running) and a client bound to it in-process."""
    module = registry.get(name).app_module
    settings = service_settings(name, data_dir, **overrides)
    await migrate_service(name, settings)
    app = module.create_app(settings, run_workers=run_workers)
    if issuer is not None:
        app.state.ctx.verifier = issuer.verifier()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client
