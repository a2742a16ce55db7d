"""The demo city 示范市, seeded through the platform's own public APIs.

Seeding goes through the gateway (in-process, no sockets) exactly as a client would, so the
demo also proves the flows work; every step is idempotent, so `jiyue demo` can run again.
Steps live beside this module, one per domain, each exposing `async def seed(demo)`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from services.kernel.client import ServiceDirectory

log = logging.getLogger("jiyue.demo")

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
    # The platform's own service directory: set-up steps take the internal machine client's
    # token straight from identity, never through the public gateway, which refuses it.
    directory: ServiceDirectory
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

    async def internal_headers(self) -> dict[str, str]:
        """Platform rights for set-up steps: the internal machine client's token."""
        preset = self.tokens.get("jiyue-internal")  # a test's stand-in platform hands one in
        return self.auth(preset or await self.directory.auth.token())

    def write_accounts(self) -> Path:
        path = self.settings.resolved_data_dir / "demo-accounts.json"
        path.write_text(json.dumps(self.accounts, ensure_ascii=False, indent=2), encoding="utf-8")
        path.chmod(0o600)
        return path


async def seed_platform(
    gateway: Any,
    settings: GatewaySettings,
    console: Console,
    *,
    corpus: str | None = None,
    corpus_limit: int | None = None,
) -> Demo:
    """Run every demo step against a gateway whose lifespan is already running."""
    transport = httpx.ASGITransport(app=gateway.trusted)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=120) as client:
        demo = Demo(
            client=client,
            console=console,
            settings=settings,
            directory=gateway.directory,
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


async def run_demo(console: Console, *, corpus: str | None = None, corpus_limit: int | None = None) -> Demo:
    """`jiyue demo`: start the platform in this process, seed it, stop."""
    settings = GatewaySettings(gateway_access_log=False)
    asgi = create_gateway(settings)
    async with asgi.gateway.lifespan():
        return await seed_platform(asgi.gateway, settings, console, corpus=corpus, corpus_limit=corpus_limit)


class SeedAfterStartup:
    """Wraps the served gateway: once it is up, seed the demo in the background.

    The platform answers /healthz at once and fills up while it serves, instead of keeping
    a newcomer waiting for every password hash and review step before the first request.
    """

    def __init__(self, app: Any, settings: GatewaySettings, console: Console, corpus: str | None) -> None:
        self.app = app
        self.gateway = app.gateway
        self.settings = settings
        self.console = console
        self.corpus = corpus
        self.task: asyncio.Task[Demo] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_then_seed(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                self.task = asyncio.create_task(self._seed())

        await self.app(scope, receive, send_then_seed)

    async def _seed(self) -> Demo:
        started = time.perf_counter()
        self.console.print("[bold]正在后台写入演示数据（示范市）…[/bold]")
        try:
            demo = await seed_platform(self.gateway, self.settings, self.console, corpus=self.corpus)
        except Exception:
            log.exception("demo seeding failed")
            raise
        self.console.print(f"[green]演示数据就绪[/green]（{time.perf_counter() - started:.1f}s）")
        return demo
