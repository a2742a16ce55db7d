"""Migrating every service of the registry (or one) to a revision."""

from __future__ import annotations

from typing import Any

from services import registry
from services.kernel import migrations


def service_settings(name: str, **overrides: Any) -> Any:
    return registry.get(name).app_module.settings_class(**overrides)


async def migrate(names: list[str] | None = None, revision: str = "head", **overrides: Any) -> list[str]:
    done = []
    for spec in registry.SERVICES:
        if names and spec.name not in names:
            continue
        module = spec.app_module
        cfg = migrations.alembic_config(
            spec.name, module.MIGRATIONS, service_settings(spec.name, **overrides)
        )
        await migrations.upgrade(cfg, revision)
        done.append(spec.name)
    return done


async def downgrade(names: list[str] | None = None, revision: str = "base", **overrides: Any) -> list[str]:
    done = []
    for spec in reversed(registry.SERVICES):
        if names and spec.name not in names:
            continue
        module = spec.app_module
        cfg = migrations.alembic_config(
            spec.name, module.MIGRATIONS, service_settings(spec.name, **overrides)
        )
        await migrations.downgrade(cfg, revision)
        done.append(spec.name)
    return done
