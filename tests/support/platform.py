"""The whole platform in one process, migrated on a temporary data folder, for tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway import migrate
from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from tests.support.tokens import ISSUER


@dataclass
class Platform:
    app: Any
    client: httpx.AsyncClient
    settings: GatewaySettings

    @property
    def gateway(self) -> Any:
        return self.app.gateway

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, data_dir: Path, **overrides: Any) -> AsyncIterator[Platform]:
        base: dict[str, Any] = {"data_dir": data_dir, "public_url": ISSUER}
        base.update(overrides)
        settings = GatewaySettings(**base)
        service_overrides = {k: v for k, v in base.items() if not k.startswith("gateway_")}
        await migrate.migrate(**service_overrides)
        app = create_gateway(settings)
        async with app.gateway.lifespan():
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost", timeout=60
            ) as client:
                yield cls(app=app, client=client, settings=settings)
