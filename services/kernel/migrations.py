"""One alembic history per service, run programmatically.

Each service's `migrations/env.py` is two lines that call `run_env`; the rest lives here so
that every service migrates the same way: its own SQLite file, or its own PostgreSQL schema
with its own version table inside it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from services.kernel.db import Database
from services.kernel.settings import ServiceSettings


def alembic_config(service: str, migrations_dir: Path, settings: ServiceSettings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["settings"] = settings
    cfg.attributes["service"] = service
    return cfg


def _configure(connection: Connection, metadata: MetaData, schema: str | None, **kw: Any) -> None:
    from alembic import context

    context.configure(
        connection=connection,
        target_metadata=metadata,
        # search_path already points at the service's schema, so the version table lands
        # there unqualified; naming the schema here would make autogenerate see it as foreign.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        **kw,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(metadata: MetaData, settings: ServiceSettings, service: str) -> None:
    db = Database(settings.service_database_url(service), settings.database_schema(service))
    try:
        await db.ensure_schema()
        async with db.engine.connect() as conn:
            await conn.run_sync(_configure, metadata, db.schema)
            await conn.commit()
        if db.is_sqlite:
            await _reclaim_free_pages(db)
    finally:
        await db.dispose()


# A revision that rewrites a table (SQLite's batch mode copies it) leaves the old pages free
# inside the file: reusable, but the data folder stays as large as before the upgrade.
RECLAIM_FREE_SHARE = 0.25


async def _reclaim_free_pages(db: Database) -> None:
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        free = (await auto.exec_driver_sql("PRAGMA freelist_count")).scalar_one()
        pages = (await auto.exec_driver_sql("PRAGMA page_count")).scalar_one()
        if pages and free / pages > RECLAIM_FREE_SHARE:
            await auto.exec_driver_sql("VACUUM")


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py."""
    from alembic import context

    cfg = context.config
    settings: ServiceSettings = cfg.attributes["settings"]
    service: str = cfg.attributes["service"]
    asyncio.run(_run_async(metadata, settings, service))


async def upgrade(cfg: Config, revision: str = "head") -> None:
    # alembic is synchronous and env.py starts its own loop: run it on a worker thread.
    await asyncio.to_thread(command.upgrade, cfg, revision)


async def downgrade(cfg: Config, revision: str = "base") -> None:
    await asyncio.to_thread(command.downgrade, cfg, revision)


async def current_revision(metadata: MetaData, settings: ServiceSettings, service: str) -> str | None:
    db = Database(settings.service_database_url(service), settings.database_schema(service))
    try:
        async with db.engine.connect() as conn:

            def read(sync_conn: Connection) -> str | None:
                ctx = MigrationContext.configure(sync_conn)
                return ctx.get_current_revision()

            return await conn.run_sync(read)
    finally:
        await db.dispose()


async def schema_drift(metadata: MetaData, settings: ServiceSettings, service: str) -> list[Any]:
    """Differences between the models and the migrated database (empty when they agree)."""
    from alembic.autogenerate import compare_metadata

    db = Database(settings.service_database_url(service), settings.database_schema(service))
    try:
        async with db.engine.connect() as conn:

            def diff(sync_conn: Connection) -> list[Any]:
                ctx = MigrationContext.configure(
                    sync_conn,
                    opts={
                        "compare_type": True,
                        "target_metadata": metadata,
                    },
                )
                return list(compare_metadata(ctx, metadata))

            return await conn.run_sync(diff)
    finally:
        await db.dispose()
