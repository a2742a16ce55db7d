"""A consumer whose producer runs in the same process: woken by the commit, rarely polling.

And a consumer of a few topics keeps its cursor at the source's head instead of asking past
the same unrelated events on every poll (a lag that never fell, a feed it held from pruning).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from services.kernel.feed import emit, on_emit, read_changes
from tests.kernel.test_feed import Recorder, create, make_db


async def test_a_rung_consumer_applies_a_commit_at_once_and_its_idle_poll_is_long(tmp_path: Path) -> None:
    source, src_meta, _, src_tables = make_db(f"sqlite+aiosqlite:///{tmp_path / 'source'}.db")
    sink, sink_meta, applied, sink_tables = make_db(f"sqlite+aiosqlite:///{tmp_path / 'sink'}.db")
    await create(source, src_meta)
    await create(sink, sink_meta)

    async def fetch(after: int, limit: int):
        async with source.session() as s:
            return await read_changes(s, src_tables, after, limit, None)

    # Neither poll could deliver within the test: only the ring can.
    consumer = Recorder(
        sink,
        sink_tables,
        fetch,
        applied=applied,
        poll_seconds=3600,
        rung_poll_seconds=3600,
        lease_seconds=7200,
    )
    assert consumer.idle_seconds == 3600 and not consumer.rung
    engine = source.engine.sync_engine
    undo = consumer.ring_from(lambda wake: on_emit(engine, wake))
    assert consumer.rung
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run_forever(stop))
    try:
        for _ in range(100):  # until the first (empty) pass is done and the consumer sleeps
            if await consumer.status() != {
                "name": "recorder",
                "position": 0,
                "head": 0,
                "lag": 0,
                "holder": None,
            }:
                break
            await asyncio.sleep(0.02)
        async with source.session() as s:
            await emit(s, src_tables, "thing.created", "k1", {})
        for _ in range(1500):  # at most 30 s, far below either poll
            if await consumer.position() >= 1:
                break
            await asyncio.sleep(0.02)
        async with sink.session() as s:
            assert (await s.execute(select(applied.c.event_key))).scalars().all() == ["k1"]
    finally:
        stop.set()
        consumer.wake()
        await asyncio.wait_for(task, 10)
    undo()
    assert not consumer.rung and consumer.idle_seconds == consumer.poll_seconds
    await source.dispose()
    await sink.dispose()


async def test_the_long_idle_poll_stays_under_the_lease(tmp_path: Path) -> None:
    sink, _, applied, sink_tables = make_db(f"sqlite+aiosqlite:///{tmp_path / 'sink'}.db")

    async def fetch(after: int, limit: int):
        return [], 0

    consumer = Recorder(sink, sink_tables, fetch, applied=applied, rung_poll_seconds=60, lease_seconds=15)
    consumer.ring_from(lambda wake: lambda: None)
    assert consumer.idle_seconds == 10.0  # an idle holder renews before its lease runs out
    await sink.dispose()


async def test_a_consumer_of_other_topics_keeps_its_cursor_at_the_head(tmp_path: Path) -> None:
    source, src_meta, _, src_tables = make_db(f"sqlite+aiosqlite:///{tmp_path / 'source'}.db")
    sink, sink_meta, applied, sink_tables = make_db(f"sqlite+aiosqlite:///{tmp_path / 'sink'}.db")
    await create(source, src_meta)
    await create(sink, sink_meta)
    async with source.session() as s:
        for i in range(5):
            await emit(s, src_tables, "other.changed", f"o{i}", {})

    async def fetch(after: int, limit: int):
        async with source.session() as s:
            return await read_changes(s, src_tables, after, limit, ["thing.created"])

    consumer = Recorder(sink, sink_tables, fetch, applied=applied)
    assert await consumer.run_once() == 0
    status = await consumer.status()
    assert status["position"] == 5 and status["head"] == 5 and status["lag"] == 0
    async with source.session() as s:
        await emit(s, src_tables, "other.changed", "o5", {})
        await emit(s, src_tables, "thing.created", "k1", {})
    assert await consumer.run_once() == 1
    assert await consumer.position() == 7
    async with sink.session() as s:
        assert (await s.execute(select(applied.c.event_key))).scalars().all() == ["k1"]
    await source.dispose()
    await sink.dispose()
