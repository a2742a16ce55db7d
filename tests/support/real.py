"""The real servers of the integration tier, found through the environment.

`deploy/local/up.sh` starts them and writes their addresses to services.env; the test
command sources it. Without them a test of this tier skips with a message saying what to
run, unless JIYUE_REQUIRE_REAL_SERVICES=1 (CI), where their absence is a failure.
"""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest

HOW = "start them with `deploy/local/up.sh` (or run `./scripts/test` with JIYUE_REQUIRE_REAL_SERVICES=1)"


def required() -> bool:
    return os.environ.get("JIYUE_REQUIRE_REAL_SERVICES") == "1"


def _need(var: str, what: str) -> str:
    value = os.environ.get(var)
    if value:
        return value
    message = f"{what} not configured ({var} unset): {HOW}"
    if required():
        pytest.fail(message + " — JIYUE_REQUIRE_REAL_SERVICES=1 makes this a failure")
    pytest.skip(message)


def postgres_url() -> str:
    return _need("JIYUE_TEST_POSTGRES_URL", "PostgreSQL")


def elasticsearch_url() -> str:
    return _need("JIYUE_TEST_ELASTICSEARCH_URL", "Elasticsearch")


def s3_settings() -> dict[str, str]:
    endpoint = _need("JIYUE_TEST_S3_ENDPOINT", "MinIO / S3")
    return {
        "endpoint": endpoint,
        "access_key": os.environ.get("JIYUE_TEST_S3_ACCESS_KEY", ""),
        "secret_key": os.environ.get("JIYUE_TEST_S3_SECRET_KEY", ""),
    }


async def fresh_postgres_database() -> str:
    """A new database on the test server, so parallel workers never share state."""
    url = postgres_url()
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(plain)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"
