"""The live stream through the gateway on a real socket: 50 readers, ten of them dropped and
resumed with Last-Event-ID past the replay ring, the real machine review of resources, and
nothing unapproved on the wire."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import migrate
from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from gateway.tenancy import SiteEntry
from services.interaction.service.staff import identity_staff
from services.interaction.service.throttle import Throttle
from tests.gateway.servers import on_server, serving
from tests.interaction.interview_support import SITE, People, fake_staff, interview_body, parse_sse
from tests.support.tokens import ISSUER, TestIssuer

BASE = f"/sites/{SITE}/api/interaction/v1"
READERS = 50
RESUMERS = 10
FIRST_PART = 3  # events a resuming reader reads before it drops its connection
PHONE = "13912345678"


@pytest.fixture
def gateway(tmp_path: Path, issuer: TestIssuer) -> Iterator[tuple[Any, str]]:
    settings = GatewaySettings(data_dir=tmp_path / "var", public_url=ISSUER, gateway_rate_limits=False)
    asyncio.run(migrate.migrate(data_dir=settings.data_dir, public_url=ISSUER))
    app = create_gateway(settings)
    gw = app.gateway
    gw.guard.verifier = issuer.verifier()
    interaction = gw.local_apps["interaction"].state.ctx
    interaction.verifier = issuer.verifier(also=interaction.verifier)
    interaction.state.interviews.staff = fake_staff
    interaction.state.interviews.throttle = Throttle(100, 1000)  # one citizen asks all the questions
    # A small ring, so that the resumed readers must be replayed from the database.
    interaction.state.interviews.hub.ring_size = 4
    with serving(app, start_timeout=120) as port:  # every service's start-up, on a busy machine
        gw.sites.replace([*gw.sites.by_code.values(), SiteEntry(code=SITE, name="交通局")])
        yield app, f"http://127.0.0.1:{port}"


async def _events(resp: httpx.Response, stop_after: int | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    buffer = ""
    async for text in resp.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            events += parse_sse(block + "\n\n")
            if stop_after is not None and len(events) >= stop_after:
                return events
    return events


async def _read(
    client: httpx.AsyncClient, url: str, last_id: int | None = None, stop_after: int | None = None
):  # type: ignore[no-untyped-def]
    headers = {"Accept": "text/event-stream"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    async with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 204:
            return [], resp
        assert resp.status_code == 200, await resp.aread()
        return await _events(resp, stop_after), resp


async def _until(check: Any, what: str) -> None:
    try:
        async with asyncio.timeout(20):
            while not check():  # noqa: ASYNC110 - the state lives in the server's thread
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_fifty_readers_through_the_gateway_get_everything_in_order(
    gateway: tuple[Any, str], issuer: TestIssuer
) -> None:
    app, url = gateway
    hub = app.gateway.local_apps["interaction"].state.ctx.state.interviews.hub
    people = People(issuer, site_header=False)
    secret_pending, secret_rejected = "待审" + secrets.token_hex(4), "不采用" + secrets.token_hex(4)
    limits = httpx.Limits(max_connections=READERS + 20, max_keepalive_connections=READERS + 20)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        resp = await client.post(f"{BASE}/interviews", json=interview_body(), headers=people.editor)
        assert resp.status_code == 201, resp.text
        iid = resp.json()["id"]
        stream = f"{BASE}/public/interviews/{iid}/stream"

        async def ask(text: str, who: dict[str, str]) -> dict[str, Any]:
            r = await client.post(f"{BASE}/interviews/{iid}/questions", json={"text": text}, headers=who)
            assert r.status_code == 201, r.text
            return dict(r.json())

        async def post(path: str, body: Any = None, who: dict[str, str] = people.host) -> dict[str, Any]:
            r = await client.post(f"{BASE}/interviews/{iid}/{path}", json=body, headers=who)
            assert r.status_code in (200, 201), (path, r.text)
            return dict(r.json())

        # The real review of resources blocks the spam; nobody ever sees it.
        spam = await ask("澳门新葡京 注册就送彩金 www.xpj7777.com", people.citizen_2)
        assert spam["status"] == "screened_out"
        questions = [
            await ask(f"第{i}个问题：公交线路{i}能否加密？电话{PHONE}", people.citizen) for i in range(6)
        ]
        never = await ask(f"这个问题不会通过 {secret_pending}", people.citizen_2)
        refused = await ask(f"这个问题会被拒绝 {secret_rejected}", people.citizen_2)
        assert never["status"] == refused["status"] == "pending"
        await post(f"questions/{refused['id']}/reject", {"reason": "重复"})

        resume = asyncio.Event()
        dropped: list[int] = []

        async def follower() -> list[dict[str, Any]]:
            events, resp = await _read(client, stream)
            assert resp.headers["content-type"].startswith("text/event-stream")
            assert "no-store" in resp.headers["cache-control"] and "x-jiyue-cache" not in resp.headers
            return events

        async def resumer() -> list[dict[str, Any]]:
            first, _ = await _read(client, stream, stop_after=FIRST_PART)
            dropped.append(first[-1]["id"])
            await resume.wait()
            rest, _ = await _read(client, stream, last_id=first[-1]["id"])
            return first + rest

        tasks = [asyncio.create_task(resumer()) for _ in range(RESUMERS)]
        tasks += [asyncio.create_task(follower()) for _ in range(READERS - RESUMERS)]
        await _until(lambda: hub.readers == READERS, "every reader connected")

        await post("start")
        for q in questions[:3]:
            await post(f"questions/{q['id']}/approve")
        await _until(lambda: len(dropped) == RESUMERS and hub.readers == READERS - RESUMERS, "the drops")
        await post("answers", {"text": "线路0将加密。", "question_id": questions[0]["id"]}, people.guest)
        await post(
            "notes", {"text": "感谢网友。", "media": [{"kind": "image", "url": "https://x.example/a.jpg"}]}
        )
        for q in questions[3:]:
            await post(f"questions/{q['id']}/approve")
        await post("answers", {"text": "线路4正在论证。"}, people.guest_2)
        resume.set()  # the ring (4 entries) no longer reaches back to where they left
        await _until(lambda: hub.readers == READERS, "every reader resumed")
        await post("answers", {"text": "线路5明年开通。", "question_id": questions[5]["id"]}, people.guest)
        await post("end")
        results = await asyncio.wait_for(asyncio.gather(*tasks), 60)

        transcript = (await client.get(f"{BASE}/public/interviews/{iid}/transcript")).json()
        listed = (await client.get(f"{BASE}/public/interviews", params={"status": "ended"})).json()
        assert [i["id"] for i in listed["items"]] == [iid] and listed["next_cursor"] is None
        assert (
            await client.get(stream, headers={"Accept": "text/event-stream", "Last-Event-ID": "999"})
        ).status_code == 204

    expected = [e["seq"] for e in transcript["entries"]]
    assert expected == list(range(1, 13))  # live, 6 questions, 3 answers, a note, ended
    kinds = [e["kind"] for e in transcript["entries"]]
    assert kinds[0] == "state" and kinds[-1] == "state" and kinds.count("question") == 6
    for events in results:
        assert [e["id"] for e in events] == expected  # in order, nothing missed, nothing twice
        assert [e["data"] for e in events] == transcript["entries"]
    assert set(dropped) == {FIRST_PART}
    wire = str(results)
    for secret in (secret_pending, secret_rejected, PHONE, "澳门新葡京", "王小明"):
        assert secret not in wire
    assert hub.readers == 0


def test_guests_are_checked_against_identity(gateway: tuple[Any, str]) -> None:
    app, url = gateway
    port = int(url.rsplit(":", 1)[1])
    lookup = identity_staff(app.gateway.directory)  # the served platform's own clients, on its loop
    admin = on_server(port, lookup(1))  # identity's first account: the platform administrator
    assert admin is not None and admin.works_on(SITE)
    assert on_server(port, lookup(987654)) is None
