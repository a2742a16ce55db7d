"""Indexing follows the feed crash-safely; a full rebuild swaps in a fresh index."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from services.search.indexing import flush_dirty
from services.search.reindex import rebuild, source_fetcher
from tests.search.conftest import search_harness
from tests.search.fakes import FakeContent
from tests.support.tokens import TestIssuer


class EngineCrash(Exception):
    pass


async def test_kill_while_publishing_then_restart_matches_published_set(
    tmp_path: Path, issuer: TestIssuer, backend_name: str
) -> None:
    content = FakeContent()
    for i in range(1, 41):
        content.publish(i, title=f"政务公开文件{i}", body_text=f"第{i}号文件正文")
    # The restarted service finds the index the killed one wrote to, as it would in production.
    same_index = {"search_index_prefix": f"jiyue-test-kill-{uuid.uuid4().hex[:10]}"}
    async with search_harness(
        tmp_path, issuer, backend_name, content, keep_index=True, feed_lease_seconds=0.5, **same_index
    ) as first:
        consumer = first.consumer
        consumer.batch_size = 7
        task = asyncio.create_task(consumer.run_forever(asyncio.Event()))
        # publish, withdraw and archive while the consumer runs, then kill it mid-flight
        for i in range(41, 61):
            content.publish(i, title=f"新文件{i}", body_text="信息公开")
            if i % 5 == 0:
                content.change(i - 30, "withdrawn")
            if i % 7 == 0:
                content.change(i - 20, "archived")
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        killed_at = await consumer.position()
    assert killed_at < len(content.events), "the kill must land before the consumer caught up"

    for i in range(61, 71):  # publishing goes on while search is down
        content.publish(i, title=f"停机期间文件{i}")
    async with search_harness(
        tmp_path, issuer, backend_name, content, feed_lease_seconds=0.5, **same_index
    ) as second:
        await second.catch_up()
        assert await second.backend.ids() == content.published_ids()
        resp = await second.search("新文件", scope="platform", size=100, archived="include")
        assert resp.json()["total"] == len([i for i in content.published_ids() if 41 <= i <= 60])


async def test_engine_failure_after_db_commit_is_flushed_on_next_run(
    tmp_path: Path, issuer: TestIssuer, backend_name: str
) -> None:
    async with search_harness(tmp_path, issuer, backend_name) as h:
        for i in range(1, 6):
            h.content.publish(i, title=f"文件{i}")
        backend = h.backend
        real_commit = backend.commit

        async def failing_commit() -> None:
            raise EngineCrash("engine down")

        backend.commit = failing_commit
        with pytest.raises(EngineCrash):
            await h.consumer.run_once()
        assert await h.consumer.position() == 5  # the cursor moved with the recorded rows
        backend.commit = real_commit
        await h.catch_up()
        assert await backend.ids() == {1, 2, 3, 4, 5}


async def test_replaying_events_changes_nothing(
    tmp_path: Path, issuer: TestIssuer, backend_name: str
) -> None:
    async with search_harness(tmp_path, issuer, backend_name) as h:
        h.content.publish(1, title="政务公开")
        h.content.publish(2, title="政务公开二", resource_id=1, site="county")
        await h.catch_up()
        # at-least-once delivery: the same events again
        delivered = list(h.content.events)
        h.content.events.extend(dict(e, cursor=len(delivered) + n + 1) for n, e in enumerate(delivered))
        await h.catch_up()
        assert await h.backend.ids() == {1, 2}
        platform = (await h.search("政务公开", scope="platform")).json()
        assert platform["total"] == 1 and len(platform["items"][0]["sites"]) == 2


async def test_reindex_rebuilds_from_source_and_swaps(
    tmp_path: Path, issuer: TestIssuer, backend_name: str
) -> None:
    async with search_harness(tmp_path, issuer, backend_name) as h:
        for i in range(1, 11):
            h.content.publish(i, title=f"营商环境文件{i}")
        await h.catch_up()
        before = await h.backend.generation()
        # changes the feed has not delivered yet are picked up from the source listing
        h.content.change(3, "withdrawn")
        h.content.publish(11, title="营商环境新文件")
        written = await rebuild(
            h.app.state.ctx.db, h.backend, source_fetcher(h.app.state.ctx.directory, "content"), page_size=4
        )
        assert written == 10
        assert await h.backend.generation() != before
        assert await h.backend.ids() == h.content.published_ids()
        assert (await h.search("营商环境", scope="platform")).json()["total"] == 10
        assert await flush_dirty(h.app.state.ctx.db, h.backend) == 0  # nothing left behind
        await h.catch_up()  # the feed then replays the same changes: idempotent
        assert await h.backend.ids() == h.content.published_ids()
