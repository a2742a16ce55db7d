"""Building a service's context from settings: database, peers, secrets."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import MetaData

from services.kernel.client import ServiceDirectory
from services.kernel.context import ServiceContext
from services.kernel.db import Database
from services.kernel.feed import FeedTables
from services.kernel.settings import ServiceSettings


def read_or_create_secret(settings: ServiceSettings, name: str, nbytes: int = 32) -> str:
    """A secret persisted in the data folder (mode 0600) for the embedded default.

    Split deployments pass secrets through the environment instead; this keeps a single-host
    install working with no configuration while never shipping a default secret.
    """
    folder = settings.resolved_data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{name}.secret"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)  # first writer wins if two processes race
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def internal_secret(settings: ServiceSettings) -> str:
    return settings.internal_client_secret or read_or_create_secret(settings, "internal-client")


def make_directory(settings: ServiceSettings) -> ServiceDirectory:
    directory = ServiceDirectory(internal_secret(settings))
    for name, url in settings.service_urls.items():
        directory.register_url(name, url)
    return directory


def build_context(
    name: str,
    settings: ServiceSettings,
    *,
    feed: FeedTables | None,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> ServiceContext:
    db = Database(settings.service_database_url(name), settings.database_schema(name))
    return ServiceContext(
        name=name,
        settings=settings,
        db=db,
        directory=directory or make_directory(settings),
        feed=feed,
        run_workers=run_workers,
    )


def migrations_dir(service_file: str) -> Path:
    return Path(service_file).resolve().parent / "migrations"


__all__ = ["MetaData", "build_context", "internal_secret", "make_directory", "migrations_dir"]
