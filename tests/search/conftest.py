from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.search.workers import PublicationIndexer
from tests.search.fakes import FakeContent
from tests.support import real
from tests.support.services import running_service
from tests.support.tokens import TestIssuer

BACKENDS = ["tantivy", pytest.param("elasticsearch", marks=pytest.mark.integration)]


def backend_settings(name: str) -> dict[str, Any]:
    if name == "tantivy":
        return {"search_backend": "tantivy"}
    return {
        "search_backend": "elasticsearch",
        "elasticsearch_url": real.elasticsearch_url(),
        "search_index_prefix": f"jiyue-test-{uuid.uuid4().hex[:10]}",
    }


@dataclass
class SearchHarness:
    app: Any
    client: httpx.AsyncClient
    content: FakeContent

    @property
    def consumer(self) -> PublicationIndexer:
        consumer = self.app.state.ctx.consumers[0]
        assert isinstance(consumer, PublicationIndexer)
        return consumer

    @property
    def backend(self) -> Any:
        return self.app.state.ctx.state.backend

    async def catch_up(self) -> None:
        for _ in range(1000):
            applied = await self.consumer.run_once()
            status = await self.consumer.status()
            if status["lag"] == 0 and status["position"] == len(self.content.events):
                await self.consumer.run_once()  # a last flush of anything still dirty
                return
            if not applied:  # another (killed) holder's lease has to expire first
                await asyncio.sleep(0.05)
        raise AssertionError("consumer did not catch up")

    async def search(self, q: str, site: str | None = None, **params: Any) -> httpx.Response:
        headers = {"X-Jiyue-Site": site} if site else {}
        return await self.client.get("/api/search/v1/search", params={"q": q, **params}, headers=headers)


@contextlib.asynccontextmanager
async def search_harness(
    data_dir: Path,
    issuer: TestIssuer,
    backend: str,
    content: FakeContent | None = None,
    *,
    keep_index: bool = False,
    **overrides: Any,
) -> AsyncIterator[SearchHarness]:
    """The search service alone with a fake content source. `keep_index` leaves the engine's
    index in place on exit, as a killed process would, for a restarted harness to reuse
    (pass the same `search_index_prefix` to both)."""
    content = content or FakeContent()
    settings = {**backend_settings(backend), **overrides}
    async with running_service("search", data_dir, issuer, run_workers=False, **settings) as (app, client):
        app.state.ctx.directory.register_app("content", content.app)
        app.state.ctx.directory.register_app("identity", content.app)
        try:
            yield SearchHarness(app=app, client=client, content=content)
        finally:
            if backend == "elasticsearch" and not keep_index:
                await app.state.ctx.state.backend.drop_all()


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def harness(tmp_path: Path, issuer: TestIssuer, backend_name: str) -> AsyncIterator[SearchHarness]:
    async with search_harness(tmp_path, issuer, backend_name) as h:
        yield h
