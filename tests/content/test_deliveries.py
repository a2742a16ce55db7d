"""Background deliveries (issue 13): outside transactions, concurrent per channel, backed off,
and dead letters an operator can list and send back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.content.models import SyndicationTask
from services.content.workers import syndication_pass
from services.kernel.clock import now, travel
from tests.content.conftest import Content, _start
from tests.content.test_syndication import _setup
from tests.kernel.test_outbound import LoopbackServer
from tests.support.tokens import TestIssuer


@pytest.fixture
async def content_pushing(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    async for c in _start(
        tmp_path,
        issuer,
        run_workers=True,
        content_push_backoff_seconds=0.05,
        content_push_max_attempts=2,
        outbound_allow="127.0.0.1/32",
    ):
        yield c


@pytest.fixture
async def content_two_tries(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    async for c in _start(tmp_path, issuer, run_workers=False, content_syndication_max_attempts=2):
        yield c


async def _channel(content: Content, url: str) -> int:
    made = await content.client.post(
        "/api/content/v1/sites/jtj/channels",
        json={"name": "渠道", "url": url},
        headers=content.site_admin("jtj"),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _deliveries(content: Content) -> list[dict[str, Any]]:
    resp = await content.client.get(
        "/api/content/v1/sites/jtj/push-deliveries", headers=content.site_admin("jtj")
    )
    return list(resp.json()["items"])


async def test_a_tarpit_channel_does_not_delay_another_channel(content_pushing: Content) -> None:
    content = content_pushing
    await content.site("jtj")
    column = await content.column("jtj", "政务动态")
    async with LoopbackServer(mode="tarpit").running() as tarpit, LoopbackServer().running() as good:
        slow = await _channel(content, tarpit.url)  # the older channel: first in line
        fast = await _channel(content, good.url)
        await content.publish_new("jtj", column, "新开通公交线路")
        started = time.monotonic()
        delivered = None
        while time.monotonic() - started < 1.0:
            by_channel = {d["channel_id"]: d for d in await _deliveries(content)}
            if by_channel.get(fast, {}).get("status") == "delivered":
                delivered = time.monotonic() - started
                break
            await asyncio.sleep(0.02)
        assert delivered is not None and delivered < 1.0
        assert by_channel[slow]["status"] == "pending" and len(tarpit.requests) == 1
        assert len(good.requests) == 1


def _dead_count(kind: str) -> float:
    return REGISTRY.get_sample_value("jiyue_content_dead_letters_total", {"kind": kind}) or 0.0


async def _failing_tasks(content: Content, source: int, n: int) -> None:
    """Tasks whose subscriber column is gone: every try fails."""
    async with content.ctx.db.session() as session:
        for i in range(n):
            session.add(
                SyndicationTask(
                    source_publication_id=source,
                    subscription_id=10_000 + i,
                    subscriber_site="dcq",
                    subscriber_column_id=999_999,
                    due_at=now() + timedelta(hours=12),
                    created_at=now(),
                )
            )


async def test_sixty_failing_tasks_do_not_block_the_next(content_two_tries: Content) -> None:
    content = content_two_tries
    source_column, _ = await _setup(content)
    first = await content.publish_new("sfs", source_column, "普通通知")
    await _failing_tasks(content, first, 60)
    await content.publish_new("sfs", source_column, "重要通知", important=True)
    settings = content.ctx.settings
    for _ in range(3):
        await syndication_pass(content.ctx, settings)
    tasks = (await content.client.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()
    real = [t for t in tasks["items"] if t["column_id"] != 999_999]
    assert len(real) == 1 and real[0]["status"] == "drafted", real


async def test_dead_letters_are_listed_counted_and_retried(content_two_tries: Content) -> None:
    content = content_two_tries
    source_column, _ = await _setup(content)
    first = await content.publish_new("sfs", source_column, "普通通知")
    await _failing_tasks(content, first, 3)
    settings = content.ctx.settings
    before = _dead_count("syndication")
    await syndication_pass(content.ctx, settings)
    path = "/api/content/v1/sites/dcq/dead-letters"
    assert (await content.client.get(path, headers=content.site_admin("dcq"))).json()["total"] == 0
    with travel(timedelta(minutes=5)):  # past the first backoff
        await syndication_pass(content.ctx, settings)
    letters = (await content.client.get(path, headers=content.site_admin("dcq"))).json()
    assert letters["total"] == 3 and {i["kind"] for i in letters["items"]} == {"syndication"}
    assert letters["items"][0]["attempts"] == 2 and "999999" in letters["items"][0]["last_error"]
    assert _dead_count("syndication") - before == 3

    assert (await content.client.get(path, headers=content.editor("dcq"))).status_code == 403
    assert (await content.client.get(path, headers=content.site_admin("sfs"))).status_code == 404
    assert (await content.client.get(path, headers=content.admin)).json()["total"] == 3

    letter = letters["items"][0]
    retry = f"{path}/syndication/{letter['id']}/retry"
    sent = await content.client.post(retry, headers=content.site_admin("dcq"))
    assert sent.status_code == 200 and sent.json()["attempts"] == 0
    assert (await content.client.post(retry, headers=content.site_admin("dcq"))).status_code == 409
    after = (await content.client.get(path, headers=content.site_admin("dcq"))).json()
    assert after["total"] == 2
    tasks = (await content.client.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()
    assert {t["status"] for t in tasks["items"] if t["id"] == letter["id"]} == {"pending"}


async def test_a_dead_push_is_listed_and_retried(content_pushing: Content) -> None:
    content = content_pushing
    await content.site("jtj")
    column = await content.column("jtj", "政务动态")
    async with LoopbackServer(mode="fail").running() as receiver:
        await _channel(content, receiver.url)
        await content.publish_new("jtj", column, "新开通公交线路")
        path = "/api/content/v1/sites/jtj/dead-letters"
        letters: dict[str, Any] = {"total": 0}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and letters["total"] == 0:
            await asyncio.sleep(0.05)
            letters = (await content.client.get(path, headers=content.site_admin("jtj"))).json()
        assert letters["total"] == 1 and letters["items"][0]["kind"] == "push"
        assert letters["items"][0]["attempts"] == 2 and letters["items"][0]["last_error"] == "HTTP 503"
        receiver.mode = "ok"
        letter = letters["items"][0]
        sent = await content.client.post(
            f"{path}/push/{letter['id']}/retry", headers=content.site_admin("jtj")
        )
        assert sent.status_code == 200
        status = ""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and status != "delivered":
            await asyncio.sleep(0.05)
            status = (await _deliveries(content))[0]["status"]
    assert status == "delivered" and len(receiver.requests) == 3
