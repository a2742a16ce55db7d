"""Online interviews on the interaction service alone: scheduling, moderation, answers, the
stream's replay, the transcript, the list, the feed, and what bad input is told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.interaction.service.interview_views import DbEntrySource
from services.interaction.service.livestream import StreamHub
from tests.interaction.conftest import SPAM, fake_review
from tests.interaction.interview_support import (
    CITIZEN_ID,
    INTERVIEW_COLUMN,
    People,
    fake_columns,
    fake_staff,
    interview_body,
    parse_sse,
)
from tests.support.services import running_service
from tests.support.tokens import TestIssuer

BASE = "/api/interaction/v1"
PHONE = "13812345678"


@pytest.fixture
async def service(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    async with running_service("interaction", tmp_path / "var", issuer) as (app, client):
        state = app.state.ctx.state
        state.review = fake_review
        state.interviews.staff = fake_staff
        state.interviews.columns = fake_columns
        yield app, client


@pytest.fixture
def people(issuer: TestIssuer) -> People:
    return People(issuer)


async def _schedule(client: httpx.AsyncClient, people: People, **overrides: Any) -> dict[str, Any]:
    resp = await client.post(f"{BASE}/interviews", json=interview_body(**overrides), headers=people.editor)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _ask(client: httpx.AsyncClient, iid: int, text: str, who: dict[str, str]) -> dict[str, Any]:
    resp = await client.post(f"{BASE}/interviews/{iid}/questions", json={"text": text}, headers=who)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_an_interviews_life_from_schedule_to_transcript(
    service: tuple[Any, httpx.AsyncClient], people: People
) -> None:
    _, client = service
    iv = await _schedule(client, people)
    iid = iv["id"]
    assert iv["status"] == "scheduled" and iv["host"]["name"] == "刘主持"
    assert [g["name"] for g in iv["guests"]] == ["张局长", "李处长"] and iv["starts_at"].endswith("+08:00")

    early = await _ask(client, iid, f"公交站能否加装遮雨棚？我的电话{PHONE}", people.citizen)
    spam = await _ask(client, iid, f"{SPAM} 注册就送彩金", people.citizen_2)
    dull = await _ask(client, iid, "请问什么时候开始？", people.citizen_2)
    pending = await _ask(client, iid, "夜班公交能否延长到凌晨一点？", people.citizen)
    assert spam["status"] == "screened_out" and early["status"] == "pending"

    queue = (await client.get(f"{BASE}/interviews/{iid}/questions", headers=people.host)).json()
    assert [q["id"] for q in queue["items"]] == [
        early["id"],
        dull["id"],
        pending["id"],
    ]  # screened out: never shown
    assert (await client.get(f"{BASE}/interviews/{iid}/questions", headers=people.citizen)).status_code == 403
    blocked = await client.post(
        f"{BASE}/interviews/{iid}/questions/{spam['id']}/approve", headers=people.host
    )
    assert blocked.status_code == 404

    approved = await client.post(
        f"{BASE}/interviews/{iid}/questions/{early['id']}/approve", headers=people.editor
    )
    assert approved.status_code == 200, approved.text
    assert PHONE not in approved.json()["public_text"] and approved.json()["event_id"] == 1
    rejected = await client.post(
        f"{BASE}/interviews/{iid}/questions/{dull['id']}/reject",
        json={"reason": "与主题无关"},
        headers=people.host,
    )
    assert rejected.json()["status"] == "rejected"
    again = await client.post(f"{BASE}/interviews/{iid}/questions/{dull['id']}/approve", headers=people.host)
    assert again.status_code == 409

    early_answer = {"text": "会的。", "question_id": early["id"]}
    not_live = await client.post(f"{BASE}/interviews/{iid}/answers", json=early_answer, headers=people.guest)
    assert not_live.status_code == 409
    assert (await client.post(f"{BASE}/interviews/{iid}/start", headers=people.citizen)).status_code == 403
    assert (await client.post(f"{BASE}/interviews/{iid}/start", headers=people.host)).json()[
        "status"
    ] == "live"

    media = [
        {"kind": "image", "url": "https://www.example.gov.cn/img/bus.jpg", "caption": "新线路图"},
        {"kind": "video", "resource_id": 7, "caption": "现场视频"},
    ]
    answer = await client.post(
        f"{BASE}/interviews/{iid}/answers", json={**early_answer, "media": media}, headers=people.guest
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["reply_to"] == 1 and answer.json()["author"] == "嘉宾 张局长（市交通运输局局长）"
    free = await client.post(
        f"{BASE}/interviews/{iid}/answers", json={"text": "再补充一点。"}, headers=people.guest_2
    )
    assert free.status_code == 201
    unanswerable = {"text": "答", "question_id": pending["id"]}  # not approved: not answerable
    assert (
        await client.post(f"{BASE}/interviews/{iid}/answers", json=unanswerable, headers=people.guest)
    ).status_code == 422
    assert (
        await client.post(f"{BASE}/interviews/{iid}/answers", json={"text": "我"}, headers=people.host)
    ).status_code == 403
    assert (
        await client.post(f"{BASE}/interviews/{iid}/notes", json={"text": "欢迎"}, headers=people.guest)
    ).status_code == 403
    note = await client.post(
        f"{BASE}/interviews/{iid}/notes", json={"text": "欢迎各位网友。"}, headers=people.host
    )
    assert note.status_code == 201
    spam_note = await client.post(f"{BASE}/interviews/{iid}/notes", json={"text": SPAM}, headers=people.host)
    assert spam_note.status_code == 422 and spam_note.json()["type"].endswith("/review-blocked")

    # A client that does not follow live gets what there is and the answer ends.
    backlog = await client.get(f"{BASE}/public/interviews/{iid}/stream", headers=people.anonymous)
    assert backlog.status_code == 200 and backlog.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(backlog.text)
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["event"] for e in events] == ["question", "state", "answer", "answer", "note"]
    for secret in (PHONE, "夜班公交", "什么时候开始", SPAM, "王小明"):
        assert secret not in backlog.text
    resumed = await client.get(
        f"{BASE}/public/interviews/{iid}/stream", headers={**people.anonymous, "Last-Event-ID": "3"}
    )
    assert [e["id"] for e in parse_sse(resumed.text)] == [4, 5]

    assert (
        await client.get(f"{BASE}/public/interviews/{iid}/transcript", headers=people.anonymous)
    ).status_code == 404
    assert (await client.post(f"{BASE}/interviews/{iid}/end", headers=people.host)).json()[
        "status"
    ] == "ended"
    late = await client.post(
        f"{BASE}/interviews/{iid}/questions", json={"text": "还能问吗"}, headers=people.citizen
    )
    assert late.status_code == 409
    done = await client.get(
        f"{BASE}/public/interviews/{iid}/stream", headers={**people.anonymous, "Last-Event-ID": "6"}
    )
    assert done.status_code == 204  # EventSource stops reconnecting
    archived = await client.post(f"{BASE}/interviews/{iid}/archive", headers=people.editor)
    assert archived.json()["status"] == "archived" and archived.json()["transcript_url"]
    # Queued for content in the archiving transaction; the worker does the rest (no content here).
    assert archived.json()["publication"] == {
        "state": "pending",
        "column_id": INTERVIEW_COLUMN,
        "resource_id": None,
        "resource_version": None,
        "publication_id": None,
        "published_url": None,
        "attempts": 0,
    }
    again = await client.post(f"{BASE}/interviews/{iid}/archive", headers=people.editor)
    assert again.status_code == 409  # archiving twice queues nothing more

    record = (await client.get(f"{BASE}/public/interviews/{iid}/transcript", headers=people.anonymous)).json()
    assert record["archived"] is True and record["questions"] == 1 and record["answers"] == 2
    assert [e["seq"] for e in record["entries"]] == [1, 2, 3, 4, 5, 6]
    assert [m["url"] for m in record["images"]] == ["https://www.example.gov.cn/img/bus.jpg"]
    assert [(m["url"], m["resource_id"]) for m in record["videos"]] == [(None, 7)]
    assert PHONE not in str(record)

    feed = await client.get(f"{BASE}/changes", headers=people.admin)
    assert feed.status_code == 200, feed.text
    events = [e for e in feed.json()["items"] if e["topic"].startswith("interview.")]
    assert [e["topic"] for e in events] == [
        "interview.created",
        "interview.live",
        "interview.ended",
        "interview.archived",
    ]
    assert {e["site_id"] for e in events} == {"jtj"} and all(
        e["payload"]["interview_id"] == iid for e in events
    )
    # The public listing (title, summary) rides on the events for site search; citizens'
    # questions, answers and notes never do.
    for private in ("遮雨棚", "夜班公交", PHONE, "欢迎各位网友"):
        assert private not in feed.text


async def test_bad_input_gets_a_clear_4xx(service: tuple[Any, httpx.AsyncClient], people: People) -> None:
    _, client = service
    cases = [
        interview_body(ends_at="2026-01-01T00:00:00+08:00"),
        interview_body(starts_at="2027-01-01T09:00:00"),
        interview_body(guests=[{"user_id": CITIZEN_ID}]),
        interview_body(guests=[{"user_id": 999}]),
        interview_body(guests=[{"user_id": 100}]),
        interview_body(title="<script>alert(1)</script>"),
        interview_body(guests=[]),
    ]
    for body in cases:
        resp = await client.post(f"{BASE}/interviews", json=body, headers=people.editor)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert (
        await client.post(f"{BASE}/interviews", json=interview_body(), headers=people.citizen)
    ).status_code == 404
    assert (
        await client.post(f"{BASE}/interviews", json=interview_body(), headers=people.anonymous)
    ).status_code == 401
    iid = (await _schedule(client, people))["id"]
    await client.post(f"{BASE}/interviews/{iid}/start", headers=people.host)
    for media in (
        {"kind": "image"},
        {"kind": "image", "url": "https://a.example/x.png", "resource_id": 3},
        {"kind": "video", "url": "javascript:alert(1)"},
        {"kind": "gif", "url": "https://a.example/x.gif"},
    ):
        resp = await client.post(
            f"{BASE}/interviews/{iid}/notes", json={"text": "图", "media": [media]}, headers=people.host
        )
        assert resp.status_code == 422, (media, resp.text)
    stream = f"{BASE}/public/interviews/{iid}/stream"
    assert (await client.get(stream, headers={**people.anonymous, "Last-Event-ID": "abc"})).status_code == 422
    assert (await client.get(stream, params={"after": -1}, headers=people.anonymous)).status_code == 422
    other_site = {"X-Jiyue-Site": "wjw"}
    assert (await client.get(f"{BASE}/public/interviews/{iid}", headers=other_site)).status_code == 404
    listed = await client.get(f"{BASE}/public/interviews", params={"cursor": "!!"}, headers=people.anonymous)
    assert listed.status_code == 422 and listed.json()["errors"][0]["field"] == "cursor"
    for _ in range(5):
        await _ask(client, iid, f"问题 {_}", people.citizen_2)
    throttled = await client.post(
        f"{BASE}/interviews/{iid}/questions", json={"text": "再问"}, headers=people.citizen_2
    )
    assert throttled.status_code == 429 and "retry-after" in throttled.headers
    dup = await client.post(
        f"{BASE}/interviews/{iid}/questions", json={"text": "问题 0"}, headers=people.citizen
    )
    assert dup.status_code == 201
    dup = await client.post(
        f"{BASE}/interviews/{iid}/questions", json={"text": "问题  0"}, headers=people.citizen
    )
    assert dup.status_code == 409


async def test_a_transcript_needs_a_column_of_the_site(
    service: tuple[Any, httpx.AsyncClient], people: People
) -> None:
    app, client = service
    foreign = await client.post(
        f"{BASE}/interviews", json=interview_body(column_id=99), headers=people.editor
    )
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "column_id"
    chosen = await _schedule(client, people, column_id=30)
    assert chosen["column_id"] == 30 and chosen["publication"] is None
    other = await _schedule(client, people)
    for iv in (chosen, other):
        for step in ("start", "end"):
            assert (
                await client.post(f"{BASE}/interviews/{iv['id']}/{step}", headers=people.host)
            ).status_code == 200
    archived = await client.post(f"{BASE}/interviews/{chosen['id']}/archive", headers=people.host)
    assert archived.json()["publication"]["column_id"] == 30  # the interview's own column

    async def no_columns(site: str) -> list[dict[str, Any]]:
        return [{"id": 30, "name": "通知公告", "code": "tzgg"}]

    app.state.ctx.state.interviews.columns = no_columns
    iid = other["id"]
    refused = await client.post(f"{BASE}/interviews/{iid}/archive", headers=people.editor)
    assert refused.status_code == 409 and "在线访谈" in refused.json()["detail"]
    still = (await client.get(f"{BASE}/public/interviews/{iid}", headers=people.anonymous)).json()
    assert still["status"] == "ended" and still["publication"] is None  # nothing half-done


async def test_the_public_list_pages_with_a_cursor(
    service: tuple[Any, httpx.AsyncClient], people: People
) -> None:
    _, client = service
    ids = [(await _schedule(client, people, title=f"访谈{i}"))["id"] for i in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{BASE}/public/interviews", params=params, headers=people.anonymous)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen)) == 5
    live = await client.get(f"{BASE}/public/interviews", params={"status": "live"}, headers=people.anonymous)
    assert live.json()["items"] == []
    found = await client.get(f"{BASE}/public/interviews", params={"q": "访谈3"}, headers=people.anonymous)
    assert [i["id"] for i in found.json()["items"]] == [ids[3]]
    elsewhere = await client.get(f"{BASE}/public/interviews", headers={"X-Jiyue-Site": "wjw"})
    assert elsewhere.json() == {"items": [], "next_cursor": None}


async def test_a_second_process_follows_by_polling_alone(
    service: tuple[Any, httpx.AsyncClient], people: People
) -> None:
    """Another replica's publisher is never rung by this process's commits: it polls the table."""
    app, client = service
    iid = (await _schedule(client, people))["id"]
    other = StreamHub(DbEntrySource(app.state.ctx.db), poll=0.05)
    try:
        got: list[bytes] = []

        async def read() -> None:
            async for chunk in await other.follow(iid, 0):
                got.append(chunk)

        reader = asyncio.create_task(read())
        await client.post(f"{BASE}/interviews/{iid}/start", headers=people.host)
        for text in ("一", "二", "三"):
            await client.post(f"{BASE}/interviews/{iid}/notes", json={"text": text}, headers=people.host)
        await client.post(f"{BASE}/interviews/{iid}/end", headers=people.host)
        await asyncio.wait_for(reader, 10)  # the `ended` entry closes the stream
        ids = [e["id"] for e in parse_sse(b"".join(got).decode())]
        assert ids == [1, 2, 3, 4, 5]
    finally:
        await other.aclose()
