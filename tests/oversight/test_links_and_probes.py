"""The link checker and the probe on their own: HEAD then GET, the guard, politeness, deadlines, pruning."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.kernel import clock
from services.kernel.db import Database
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
from services.oversight.models import ProbeResult, WatchedSite, metadata
from services.oversight.service.availability import availability, probe_all, prune_probes
from services.oversight.service.freshness import Rules
from services.oversight.service.links import LinkChecker, extract
from services.oversight.service.visits import page_of
from services.oversight.vocab import Level


class _Directory:
    def knows(self, name: str) -> bool:
        return False


def _checker(handler: Any, address: str = "93.184.216.34", **kw: Any) -> tuple[LinkChecker, list[str]]:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.headers['host']}{request.url.path}")
        status = handler(request)
        return httpx.Response(status, stream=httpx.ByteStream(b""))

    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    client = OutboundClient(
        OutboundPolicy(deadline_seconds=5), inner=httpx.MockTransport(record), resolver=resolve
    )
    return LinkChecker(_Directory(), client, {"www.sfs.gov.cn"}, **kw), seen  # type: ignore[arg-type]


def test_links_and_attachments_are_extracted_once_each() -> None:
    html = (
        '<p><a href="https://a.example/x">x</a><a href="#top">top</a><a href="mailto:a@b.c">m</a>'
        '<img src="/api/resources/v1/objects/ab"><a href="https://a.example/x">again</a></p>'
    )
    urls = extract(html, [{"url": "/api/resources/v1/objects/cd", "filename": "f.pdf"}])
    assert urls == ["https://a.example/x", "/api/resources/v1/objects/ab", "/api/resources/v1/objects/cd"]


async def test_head_falls_back_to_get_and_a_404_is_broken() -> None:
    def answer(request: httpx.Request) -> int:
        if request.method == "HEAD":
            return 405
        return 404 if request.url.path == "/gone" else 206

    checker, seen = _checker(answer, host_interval=0)
    verdicts = await checker.check(["https://a.example/ok", "https://b.example/gone"], "jyj")
    assert [(v.url, v.broken) for v in verdicts] == [
        ("https://a.example/ok", False),
        ("https://b.example/gone", True),
    ]
    assert sorted(seen) == [
        "GET a.example/ok",
        "GET b.example/gone",
        "HEAD a.example/ok",
        "HEAD b.example/gone",
    ]


async def test_a_private_target_is_refused_by_the_guard_and_counted_broken() -> None:
    checker, seen = _checker(lambda r: 200, address="10.1.2.3")
    [verdict] = await checker.check(["https://intranet.example/admin"], "jyj")
    assert verdict.broken and not verdict.internal and seen == []


async def test_one_host_is_asked_one_request_at_a_time() -> None:
    active = {"now": 0, "most": 0}

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            active["now"] += 1
            active["most"] = max(active["most"], active["now"])
            await asyncio.sleep(0)  # yield so that concurrent requests could overlap
            active["now"] -= 1
            return httpx.Response(200, stream=httpx.ByteStream(b""))

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    client = OutboundClient(OutboundPolicy(), inner=Slow(), resolver=resolve)
    checker = LinkChecker(_Directory(), client, set(), host_interval=0)  # type: ignore[arg-type]
    await checker.check([f"https://one.example/{i}" for i in range(6)], "jyj")
    assert active["most"] == 1


def test_internal_addresses_are_recognised_without_the_network() -> None:
    checker, _ = _checker(lambda r: 200)
    assert checker.internal_path("/sites/wjw/api/content/v1/items/3", "jyj") == (
        "wjw",
        "/api/content/v1/items/3",
    )
    assert checker.internal_path("https://www.sfs.gov.cn/api/content/v1/site", "jyj") == (
        "jyj",
        "/api/content/v1/site",
    )
    assert checker.internal_path("https://elsewhere.example/api/content/v1/site", "jyj") is None


def test_the_probe_is_not_a_page_view() -> None:
    assert page_of("/sites/jyj/api/content/v1/site?probe=availability") is None
    assert page_of("/sites/jyj/api/content/v1/site?x=1") is not None


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with database.session() as session:
        session.add(WatchedSite(code="jyj", name="教育局", status="online", updated_at=clock.now()))
    yield database
    await database.engine.dispose()
    clock.reset()


async def test_a_probe_past_its_deadline_is_unreachable_and_rows_go_after_the_window(db: Database) -> None:
    never = asyncio.Event()

    class Hanging(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await never.wait()
            raise AssertionError("unreachable")

    probe = OutboundClient(
        OutboundPolicy(allow=parse_allow("127.0.0.0/8"), deadline_seconds=0.05), inner=Hanging()
    )
    [result] = await probe_all(db, probe, "http://127.0.0.1", deadline=0.05)
    assert not result.ok and result.status == 0
    async with db.session() as session:
        finding = await availability(session, "jyj", Rules.default(), clock.now() + timedelta(seconds=1))
    assert finding.value == 1000 and finding.level is Level.VETO
    clock.shift(timedelta(days=9))
    async with db.session() as session:
        assert await prune_probes(session) == 1
        assert (await session.execute(select(func.count()).select_from(ProbeResult))).scalar_one() == 0
