"""Building a service's context from settings: database, peers, secrets."""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
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


# 32 random bytes in URL-safe base64 (what `secrets.token_urlsafe(32)` and the data-folder
# default give); anything shorter or visibly patterned can be guessed or was typed by hand.
MIN_SECRET_CHARS = 43
MIN_SECRET_BITS = 128
# The example configs (deploy/jiyue.env.example, deploy/k8s/base/secrets.example.yaml) mark
# every secret with this; a copied example must never reach a running service.
EXAMPLE_MARKER = "change-me"


class InsecureSecret(RuntimeError):
    """A configured secret too weak to start with: the service refuses to run on it."""


def _estimated_bits(value: str) -> float:
    """Shannon entropy of the characters actually used, times the length: low for repeats and
    short alphabets, about 250 bits for a generated 43-character secret."""
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def check_secret(value: str, env_name: str) -> str:
    how = "生成方法 / generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if EXAMPLE_MARKER in value.lower():
        raise InsecureSecret(f"{env_name} 仍是示例配置中的占位值（CHANGE-ME…），拒绝启动。{how}")
    if len(value) < MIN_SECRET_CHARS or _estimated_bits(value) < MIN_SECRET_BITS:
        raise InsecureSecret(
            f"{env_name} 强度不足：须为至少 32 字节的随机值（≥ {MIN_SECRET_CHARS} 个 URL 安全 base64 字符），"
            f"拒绝启动。{how}"
        )
    return value


def internal_secret(settings: ServiceSettings) -> str:
    if settings.internal_client_secret:
        return check_secret(settings.internal_client_secret, "JIYUE_INTERNAL_CLIENT_SECRET")
    return read_or_create_secret(settings, "internal-client")


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


__all__ = [
    "InsecureSecret",
    "MetaData",
    "build_context",
    "check_secret",
    "internal_secret",
    "make_directory",
    "migrations_dir",
]
