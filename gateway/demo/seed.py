"""The demo city 示范市, seeded through the platform's own public APIs.

Seeding goes through the gateway (in-process, no sockets) exactly as a client would, so the
demo also proves the flows work; every step is idempotent, so `jiyue demo` can run again.
Steps live beside this module, one per domain, each exposing `async def seed(demo)`.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from gateway.app import create_gateway
from gateway.settings import GatewaySettings

# Order matters: accounts, then sites and columns, then the articles placed in them.
STEPS = (
    "gateway.demo.identity",
    "gateway.demo.sites",
    "gateway.demo.articles",
    "gateway.demo.corpus",
)


@dataclass
class Demo:
    client: httpx.AsyncClient
    console: Console
    settings: GatewaySettings
    corpus: str | None = None
    corpus_limit: int | None = None
    accounts: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    async def token_for(self, username: str, password: str) -> str:
        if username not in self.tokens:
            resp = await self.client.post(
                "/api/identity/v1/token",
                data={
                    "grant_type": "password",
                    "username": username,
                    "password": password,
                    "client_id": "jiyue-console",
                },
            )
            if resp.status_code != 200:
                raise RuntimeError(f"sign-in of {username} failed: {resp.status_code} {resp.text[:300]}")
            self.tokens[username] = resp.json()["access_token"]
        return self.tokens[username]

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def write_accounts(self) -> Path:
        path = self.settings.resolved_data_dir / "demo-accounts.json"
        path.write_text(json.dumps(self.accounts, ensure_ascii=False, indent=2), encoding="utf-8")
        path.chmod(0o600)
        return path


async def run_demo(console: Console, *, corpus: str | None = None, corpus_limit: int | None = None) -> Demo:
    # Seeding is the operator loading data in-process, not a client: no rate limits apply.
    settings = GatewaySettings(gateway_rate_limits=False)
    asgi = create_gateway(settings)
    gateway = asgi.gateway
    async with gateway.lifespan():
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=120) as client:
            demo = Demo(
                client=client,
                console=console,
                settings=settings,
                corpus=corpus,
                corpus_limit=corpus_limit,
            )
            for name in STEPS:
                try:
                    step = importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name != name:
                        raise
                    continue
                await step.seed(demo)
            if demo.accounts:
                table = Table(title="演示账号（已写入 demo-accounts.json）")
                for col in ("username", "role", "site", "password"):
                    table.add_column(col)
                for acc in demo.accounts:
                    table.add_row(acc["username"], acc["role"], acc.get("site") or "平台", acc["password"])
                console.print(table)
                console.print(f"账号文件: {demo.write_accounts()}")
    return demo
