"""An event that keeps failing backs off, then goes to the dead letters and the feed moves on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.feed import FeedEvent
from services.resources.models import Usage
from services.resources.workers import UsageConsumer
from tests.support.services import running_service
from tests.support.tokens import TestIssuer

API = "/api/resources/v1"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    yield
    clock.reset()


def event(cursor: int, pub: int) -> FeedEvent:
    payload = {"publication_id": pub, "site": "jtj", "column_id": 1, "status": "published",
               "resource_id": 900 + pub, "resource_version": 1, "title": f"信息{pub}"}  # fmt: skip
    return FeedEvent(cursor, "publication.published", str(pub), "jtj", payload, "2026-12-02T10:00:00+08:00")


def dead_lettered() -> float:
    value = REGISTRY.get_sample_value("jiyue_feed_dead_lettered_total", {"consumer": UsageConsumer.name})
    return value or 0.0


async def test_poison_event_backs_off_then_is_set_aside_and_retried_by_an_operator(
    tmp_path: Path, issuer: TestIssuer
) -> None:
    events = [event(1, 11), event(2, 12), event(3, 13)]
    broken = {12}

    async with running_service("resources", tmp_path, issuer, feed_max_attempts=3) as (app, client):
        consumer = next(c for c in app.state.ctx.consumers if isinstance(c, UsageConsumer))
        handle = consumer.handle

        async def flaky(ev: FeedEvent, session: AsyncSession) -> None:
            if int(ev.key) in broken:
                raise RuntimeError(f"资源 {ev.key} 暂时无法登记")
            await handle(ev, session)

        async def fetch(after: int, limit: int) -> tuple[list[FeedEvent], int]:
            return [e for e in events if e.cursor > after][:limit], len(events)

        consumer.handle = flaky  # type: ignore[method-assign]
        consumer.fetch = fetch
        before = dead_lettered()

        with pytest.raises(RuntimeError):
            await consumer.run_once()  # 11 applied, 12 fails (attempt 1)
        assert await consumer.position() == 1
        assert await consumer.run_once() == 0  # backing off: not retried yet
        clock.shift(timedelta(seconds=1.1))
        with pytest.raises(RuntimeError):
            await consumer.run_once()  # attempt 2; next wait is 2 s
        clock.shift(timedelta(seconds=1.1))
        assert await consumer.run_once() == 0
        clock.shift(timedelta(seconds=1.1))
        assert await consumer.run_once() == 1  # attempt 3: set aside; 13 applied
        assert await consumer.position() == 3
        assert dead_lettered() == before + 1
        assert REGISTRY.get_sample_value("jiyue_feed_dead_letters", {"consumer": UsageConsumer.name}) == 1
        assert (await consumer.status())["dead_letters"] == 1

        admin = issuer.headers("root", roles=[("platform_admin", None)])
        editor = issuer.headers("ed", roles=[("editor", "jtj")])
        assert (await client.get(f"{API}/dead-letters", headers=editor)).status_code == 403
        listed = await client.get(f"{API}/dead-letters", headers=admin)
        assert listed.status_code == 200
        body: dict[str, Any] = listed.json()
        assert body["total"] == 1
        letter = body["items"][0]
        assert (letter["consumer"], letter["event_cursor"], letter["attempts"]) == (UsageConsumer.name, 2, 3)
        assert "暂时无法登记" in letter["last_error"] and letter["dead_at"].endswith("+08:00")

        again = await client.post(f"{API}/dead-letters/{letter['id']}/retry", headers=admin)
        assert again.status_code == 200 and again.json()["applied"] is False
        assert again.json()["attempts"] == 4
        broken.clear()
        done = await client.post(f"{API}/dead-letters/{letter['id']}/retry", headers=admin)
        assert done.status_code == 200 and done.json() == {
            "id": letter["id"], "applied": True, "attempts": None, "last_error": None,
        }  # fmt: skip
        assert (await client.get(f"{API}/dead-letters", headers=admin)).json()["total"] == 0
        assert REGISTRY.get_sample_value("jiyue_feed_dead_letters", {"consumer": UsageConsumer.name}) == 0
        missing = await client.post(f"{API}/dead-letters/{letter['id']}/retry", headers=admin)
        assert missing.status_code == 404

        # The retried event reached the register like the others: nothing was lost.
        async with app.state.ctx.db.session() as s:
            rows = [await s.get(Usage, pub) for pub in (11, 12, 13)]
        assert [(u.publication_id, u.status) for u in rows if u] == [
            (pub, "published") for pub in (11, 12, 13)
        ]
