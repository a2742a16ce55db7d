"""Feed retention: pruning waits for live consumers; one left behind is told so and rebuilds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tenancy import REGISTRY_PATH, SiteRegistry
from services.kernel import clock
from services.kernel.client import ServiceDirectory
from services.kernel.consumer import FeedConsumer
from services.kernel.db import Database
from services.kernel.errors import FeedCursorExpired
from services.kernel.feed import FeedEvent, FeedTables, define_feed_tables, emit, prune, read_changes
from services.resources.models import feed_tables as resources_feed
from tests.support import real
from tests.support.services import running_service
from tests.support.tokens import TestIssuer

RETENTION = timedelta(days=30)
PAST_IT = timedelta(days=31)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    yield
    clock.reset()


def kv_table(metadata: MetaData, name: str) -> Table:
    return Table(name, metadata, Column("k", String(16), primary_key=True), Column("v", String(64)))


class Source:
    """A producer: its state table (the truth) and its feed."""

    def __init__(self, url: str) -> None:
        self.metadata = MetaData()
        self.feed = define_feed_tables(self.metadata)
        self.state = kv_table(self.metadata, "state")
        self.db = Database(url)

    async def put(self, k: str, v: str) -> None:
        async with self.db.session() as s:
            row = (await s.execute(select(self.state.c.v).where(self.state.c.k == k))).first()
            if row is None:
                await s.execute(insert(self.state).values(k=k, v=v))
            else:
                await s.execute(self.state.update().where(self.state.c.k == k).values(v=v))
            await emit(s, self.feed, "thing.changed", k, {"k": k, "v": v})

    async def truth(self) -> dict[str, str]:
        async with self.db.session() as s:
            return {k: v for k, v in (await s.execute(select(self.state.c.k, self.state.c.v))).all()}

    async def prune(self) -> int:
        async with self.db.session() as s:
            return await prune(s, self.feed, RETENTION)

    async def outbox_ids(self) -> list[int]:
        async with self.db.session() as s:
            return list(
                (await s.execute(select(self.feed.outbox.c.id).order_by(self.feed.outbox.c.id))).scalars()
            )


class Mirror(FeedConsumer):
    """Keeps a copy of the source's state; rebuilds from the source's state table."""

    name = "mirror"

    def __init__(self, db: Database, tables: FeedTables, source: Source, view: Table) -> None:
        async def fetch(after: int, limit: int) -> tuple[list[FeedEvent], int]:
            async with source.db.session() as s:
                return await read_changes(s, source.feed, after, limit, None, consumer=self.name)

        super().__init__(db, tables, fetch)
        self.source = source
        self.view = view
        self.rebuilt_at: int | None = None

    async def _upsert(self, session: AsyncSession, k: str, v: str) -> None:
        row = (await session.execute(select(self.view.c.v).where(self.view.c.k == k))).first()
        if row is None:
            await session.execute(insert(self.view).values(k=k, v=v))
        else:
            await session.execute(self.view.update().where(self.view.c.k == k).values(v=v))

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        await self._upsert(session, event.payload["k"], event.payload["v"])

    async def rebuild(self, head: int) -> None:
        self.rebuilt_at = head
        snapshot = await self.source.truth()
        async with self.db.session() as s:
            await s.execute(self.view.delete())
            for k, v in snapshot.items():
                await self._upsert(s, k, v)

    async def copy(self) -> dict[str, str]:
        async with self.db.session() as s:
            return {k: v for k, v in (await s.execute(select(self.view.c.k, self.view.c.v))).all()}


async def setup(tmp_path: Path) -> tuple[Source, Mirror]:
    source = Source(f"sqlite+aiosqlite:///{tmp_path / 'source.db'}")
    sink_meta = MetaData()
    sink_tables = define_feed_tables(sink_meta)
    view = kv_table(sink_meta, "view")
    sink = Database(f"sqlite+aiosqlite:///{tmp_path / 'sink.db'}")
    for db, meta in ((source.db, source.metadata), (sink, sink_meta)):
        async with db.engine.begin() as conn:
            await conn.run_sync(meta.create_all)
    return source, Mirror(sink, sink_tables, source, view)


async def test_pruning_waits_for_a_live_consumer(tmp_path: Path) -> None:
    source, mirror = await setup(tmp_path)
    for i in range(6):
        await source.put(f"k{i}", "v1")
    mirror.batch_size = 3
    assert await mirror.run_once() == 3  # acknowledges 0, reads 1..3
    clock.shift(PAST_IT)
    assert await mirror.run_once() == 3  # still alive (acknowledges 3), and up to date
    # Everything is older than the window, but the mirror has acknowledged only 3 so far
    # (it asked from 3 last): 4..6 stay.
    assert await source.prune() == 3
    assert await source.outbox_ids() == [4, 5, 6]
    assert await mirror.run_once() == 0  # acknowledges 6
    assert await source.prune() == 2  # never the newest: SQLite would hand its id out again
    assert await source.outbox_ids() == [6]
    await source.db.dispose()
    await mirror.db.dispose()


async def test_consumer_behind_the_window_is_told_and_rebuilds_with_nothing_lost(tmp_path: Path) -> None:
    source, mirror = await setup(tmp_path)
    for i in range(5):
        await source.put(f"k{i}", "v1")
    assert await mirror.run_once() == 5
    # The mirror goes silent for longer than the window, while the source keeps changing.
    clock.shift(PAST_IT)
    await source.put("k1", "v2")
    await source.put("k9", "v1")
    clock.shift(PAST_IT)
    await source.put("k2", "v3")
    assert await source.prune() == 7  # the silent mirror no longer holds the feed back

    async with source.db.session() as s:
        with pytest.raises(FeedCursorExpired) as gone:
            await read_changes(s, source.feed, 5, 100, None, consumer="mirror")
    assert gone.value.status == 410 and gone.value.extra == {"oldest_cursor": 7, "head": 8}

    assert await mirror.run_once() == 1  # the rebuild
    assert mirror.rebuilt_at == 8 and await mirror.position() == 8
    assert await mirror.copy() == await source.truth() == {
        "k0": "v1", "k1": "v2", "k2": "v3", "k3": "v1", "k4": "v1", "k9": "v1",
    }  # fmt: skip
    await source.put("k0", "v4")  # and it follows the feed again from the head
    assert await mirror.run_once() == 1
    assert await mirror.copy() == await source.truth()
    await source.db.dispose()
    await mirror.db.dispose()


async def test_changes_answers_410_problem_with_the_oldest_cursor(tmp_path: Path, issuer: TestIssuer) -> None:
    async with running_service("resources", tmp_path, issuer) as (app, client):
        db = app.state.ctx.db
        for i in range(3):
            async with db.session() as s:
                await emit(s, resources_feed, "probe.changed", f"p{i}", {"i": i})
        headers = issuer.headers("jiyue-internal", kind="client", scope="changes:read")
        ok = await client.get("/api/resources/v1/changes", params={"consumer": "probe"}, headers=headers)
        assert ok.status_code == 200 and len(ok.json()["items"]) == 3
        clock.shift(PAST_IT * 2)
        async with db.session() as s:
            assert await prune(s, resources_feed, RETENTION) == 2
            acks = (await s.execute(select(func.count()).select_from(resources_feed.acks))).scalar_one()
        assert acks == 1
        gone = await client.get(
            "/api/resources/v1/changes", params={"after": 0, "consumer": "probe"}, headers=headers
        )
        assert gone.status_code == 410
        assert gone.headers["content-type"] == "application/problem+json"
        body = gone.json()
        assert body["type"].endswith("/feed-cursor-expired") and body["extra"]["oldest_cursor"] == 2
        fresh = await client.get("/api/resources/v1/changes", params={"after": 2}, headers=headers)
        assert [e["key"] for e in fresh.json()["items"]] == ["p2"]
        assert fresh.json()["items"][0]["created_at"].endswith("+08:00")


async def test_gateway_registry_behind_the_window_reloads_its_snapshot() -> None:
    """The gateway follows content's feed too; a 410 makes it reload the site registry."""
    fake = FastAPI()
    seen: dict[str, Any] = {}

    @fake.post("/api/identity/v1/token")
    async def token() -> dict[str, Any]:
        return {"access_token": "t", "token_type": "Bearer", "expires_in": 300}

    @fake.get("/api/content/v1/changes")
    async def changes(after: int, consumer: str) -> JSONResponse:
        seen["consumer"] = consumer
        problem = FeedCursorExpired("过期", extra={"oldest_cursor": 40, "head": 50}).to_problem()
        return JSONResponse(problem.model_dump(), status_code=410)

    @fake.get(REGISTRY_PATH)
    async def registry() -> dict[str, Any]:
        return {"items": [{"code": "sfs", "name": "示范市", "status": "open", "domains": []}], "cursor": 50}

    directory = ServiceDirectory("secret")
    directory.register_app("identity", fake)
    directory.register_app("content", fake)
    sites = SiteRegistry(directory, [])
    sites.cursor = 3
    assert await sites._read_feed() is True
    assert seen["consumer"] == "gateway-site-registry"
    assert sites.cursor == 50 and "sfs" in sites.by_code
    await directory.aclose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def feed_db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        return Database(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    return Database(await real.fresh_postgres_database(), "feedtest")


async def test_acknowledgements_and_pruning_on_each_backend(feed_db: Database) -> None:
    metadata = MetaData()
    tables = define_feed_tables(metadata)
    await feed_db.ensure_schema()
    async with feed_db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    for i in range(4):
        async with feed_db.session() as s:
            await emit(s, tables, "t", f"k{i}", {"i": i, "标题": "通知"})
    async with feed_db.session() as s:
        await read_changes(s, tables, 0, 2, None, consumer="a")
        await read_changes(s, tables, 2, 2, None, consumer="a")  # moves a's acknowledgement
    clock.shift(PAST_IT)
    async with feed_db.session() as s:
        await read_changes(s, tables, 2, 2, None, consumer="a")  # seen again: holds the feed at 2
    async with feed_db.session() as s:
        assert await prune(s, tables, RETENTION) == 2
    async with feed_db.session() as s:
        events, head = await read_changes(s, tables, 2, 10, None, consumer="a")
        with pytest.raises(FeedCursorExpired):
            await read_changes(s, tables, 1, 10, None, consumer="a")
    assert [e.key for e in events] == ["k2", "k3"] and head == events[-1].cursor
    assert events[0].payload == {"i": 2, "标题": "通知"}
    await feed_db.dispose()
