"""The change feed: a consumer that crashes mid-batch loses nothing and repeats nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.consumer import FeedConsumer
from services.kernel.db import Database
from services.kernel.feed import FeedEvent, define_feed_tables, emit, read_changes
from tests.support import real


class Boom(Exception):
    pass


def make_db(url: str, schema: str | None = None) -> tuple[Database, MetaData, Table, object]:
    metadata = MetaData()
    tables = define_feed_tables(metadata)
    applied = Table(
        "applied",
        metadata,
        Column("event_key", String(64), primary_key=True),
        Column("times", Integer, nullable=False),
    )
    return Database(url, schema), metadata, applied, tables


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A factory of database URLs on the backend under test (SQLite file or PostgreSQL)."""
    if request.param == "sqlite":
        return lambda name: (f"sqlite+aiosqlite:///{tmp_path / name}.db", None)
    url = await real.fresh_postgres_database()
    return lambda name: (url, name)


async def create(db: Database, metadata: MetaData) -> None:
    await db.ensure_schema()
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


class Recorder(FeedConsumer):
    name = "recorder"
    batch_size = 10

    def __init__(self, *args, applied: Table, crash_after: int | None = None, **kw) -> None:
        super().__init__(*args, **kw)
        self.applied = applied
        self.crash_after = crash_after
        self.seen = 0

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if self.crash_after is not None and self.seen == self.crash_after:
            raise Boom("simulated crash")
        self.seen += 1
        # Counting applications proves "exactly once in effect": a replay would make times=2.
        row = (
            await session.execute(select(self.applied.c.times).where(self.applied.c.event_key == event.key))
        ).scalar_one_or_none()
        if row is None:
            await session.execute(insert(self.applied).values(event_key=event.key, times=1))
        else:
            await session.execute(
                self.applied.update().where(self.applied.c.event_key == event.key).values(times=row + 1)
            )


async def test_consumer_crash_mid_batch_then_restart_processes_each_event_once(db_url) -> None:
    source, src_meta, _, src_tables = make_db(*db_url("source"))
    sink, sink_meta, applied, sink_tables = make_db(*db_url("sink"))
    await create(source, src_meta)
    await create(sink, sink_meta)

    async with source.session() as s:
        for i in range(10):
            await emit(s, src_tables, "thing.created", f"k{i}", {"n": i})

    async def fetch(after: int, limit: int):
        async with source.session() as s:
            return await read_changes(s, src_tables, after, limit, None)

    crashing = Recorder(sink, sink_tables, fetch, applied=applied, crash_after=5)
    with pytest.raises(Boom):
        await crashing.run_once()
    assert await crashing.position() == 5

    # A new process (new owner) must wait for the dead one's lease, then take over.
    crashing.lease_seconds = 0.2
    await crashing.acquire_lease()
    restarted = Recorder(sink, sink_tables, fetch, applied=applied, lease_seconds=5)
    assert await restarted.run_once() == 0  # the dead holder's lease has not expired yet
    await asyncio.sleep(0.3)
    assert await restarted.run_once() == 5
    assert await restarted.run_once() == 0

    async with sink.session() as s:
        rows = (await s.execute(select(applied.c.event_key, applied.c.times))).all()
    assert sorted(k for k, _ in rows) == sorted(f"k{i}" for i in range(10))
    assert all(times == 1 for _, times in rows)
    status = await restarted.status()
    assert status["position"] == 10 and status["lag"] == 0
    await source.dispose()
    await sink.dispose()


async def test_events_written_in_a_rolled_back_transaction_never_appear(db_url) -> None:
    db, meta, _, tables = make_db(*db_url("s"))
    await create(db, meta)
    with pytest.raises(Boom):
        async with db.session() as s:
            await emit(s, tables, "x", "lost", {})
            raise Boom
    async with db.session() as s:
        await emit(s, tables, "x", "kept", {})
    async with db.session() as s:
        events, head = await read_changes(s, tables, 0, 100, None)
        count = (await s.execute(select(func.count()).select_from(tables.outbox))).scalar_one()
    assert [e.key for e in events] == ["kept"] and count == 1 and head == events[0].cursor
    await db.dispose()


async def test_lost_lease_stops_a_stale_holder_from_advancing(db_url) -> None:
    sink, meta, applied, tables = make_db(*db_url("sink"))
    await create(sink, meta)
    events = [
        FeedEvent(cursor=i, topic="t", key=f"k{i}", site_id=None, payload={}, created_at="") for i in (1, 2)
    ]

    async def fetch(after: int, limit: int):
        return [e for e in events if e.cursor > after], 2

    a = Recorder(sink, tables, fetch, applied=applied, lease_seconds=0.1)
    b = Recorder(sink, tables, fetch, applied=applied, lease_seconds=5)
    assert await a.acquire_lease()
    await asyncio.sleep(0.15)
    assert await b.acquire_lease()  # a's lease expired: b takes over
    assert not await a.acquire_lease()
    assert await a.run_once() == 0
    assert await b.run_once() == 2
    await sink.dispose()


async def test_concurrent_writers_commit_in_cursor_order(db_url) -> None:
    """Readers following the cursor never skip an event committed late by a slow writer."""
    db, meta, _, tables = make_db(*db_url("order"))
    await create(db, meta)
    seen: list[str] = []
    cursor = 0

    async def writer(i: int) -> None:
        async with db.session() as s:
            await emit(s, tables, "t", f"w{i}", {})
            await asyncio.sleep(0.01 * (i % 3))

    async def reader() -> None:
        nonlocal cursor
        async with db.session() as s:
            events, _ = await read_changes(s, tables, cursor, 100, None)
        for e in events:
            seen.append(e.key)
            cursor = e.cursor

    tasks = [asyncio.create_task(writer(i)) for i in range(30)]
    while not all(t.done() for t in tasks):
        await reader()
        await asyncio.sleep(0.005)
    await reader()
    assert sorted(seen) == sorted(f"w{i}" for i in range(30))
    await db.dispose()
