"""The usage register from content's feed, and retiring: refused, forced, audited."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.kernel.feed import FeedEvent
from services.resources.workers import UsageConsumer
from tests.resources.conftest import Actors, create_draft

API = "/api/resources/v1"


def publication_event(cursor: int, pub: int, rid: int, status: str, version: int = 1) -> FeedEvent:
    return FeedEvent(
        cursor=cursor,
        topic=f"publication.{status}",
        key=str(pub),
        site_id="jtj",
        payload={
            "publication_id": pub, "site": "jtj", "column_id": 7, "status": status,
            "resource_id": rid, "resource_version": version, "title": "通知",
        },
        created_at="2026-11-27T10:00:00+08:00",
    )  # fmt: skip


async def feed(app: Any, events: list[FeedEvent]) -> None:
    ctx = app.state.ctx
    consumer = next(c for c in ctx.consumers if isinstance(c, UsageConsumer))
    for event in events:
        async with ctx.db.session() as session:
            await consumer.handle(event, session)


async def stored_resource(client: httpx.AsyncClient, actors: Actors) -> int:
    draft = await create_draft(client, actors.editor)
    assert (
        await client.post(f"{API}/resources/{draft['id']}/store", headers=actors.editor)
    ).status_code == 200
    return int(draft["id"])


async def test_usages_follow_publication_events_idempotently(
    service: tuple[Any, httpx.AsyncClient], actors: Actors
) -> None:
    app, client = service
    rid = await stored_resource(client, actors)
    await feed(app, [publication_event(1, 11, rid, "created"), publication_event(2, 11, rid, "published")])
    await feed(app, [publication_event(3, 12, rid, "created")])
    await feed(app, [publication_event(1, 11, rid, "created")])  # replayed after a crash: ignored
    page = (await client.get(f"{API}/resources/{rid}/usages", headers=actors.editor)).json()
    assert page["total"] == 2
    assert [(u["publication_id"], u["status"], u["site"], u["column_id"]) for u in page["items"]] == [
        (11, "published", "jtj", 7),
        (12, "created", "jtj", 7),
    ]
    assert (await client.get(f"{API}/resources/{rid}/usages", headers=actors.other_editor)).status_code == 404


async def test_retire_refused_while_published_then_allowed_after_withdrawal(
    service: tuple[Any, httpx.AsyncClient], actors: Actors
) -> None:
    app, client = service
    rid = await stored_resource(client, actors)
    await feed(app, [publication_event(1, 21, rid, "published")])
    refused = await client.post(
        f"{API}/resources/{rid}/retire", json={"reason": "已被新文件替代"}, headers=actors.editor
    )
    assert refused.status_code == 409 and refused.json()["extra"]["publications"] == [21]
    not_admin = await client.post(
        f"{API}/resources/{rid}/retire", params={"force": "true"}, json={"reason": "x"}, headers=actors.editor
    )
    assert not_admin.status_code == 403
    await feed(app, [publication_event(2, 21, rid, "withdrawn")])
    ok = await client.post(
        f"{API}/resources/{rid}/retire", json={"reason": "已被新文件替代"}, headers=actors.editor
    )
    assert ok.status_code == 200 and ok.json() == {"id": rid, "status": "retired", "withdrawn": []}
    use = await client.get(
        f"{API}/resources/{rid}/versions/1", params={"for_site": "jtj"}, headers=actors.internal
    )
    assert use.status_code == 409  # a retired resource can no longer be placed
    events = (
        await client.get(f"{API}/changes", params={"topics": "resource.retired"}, headers=actors.internal)
    ).json()
    assert [e["payload"]["status"] for e in events["items"]] == ["retired"]


async def test_forced_retire_withdraws_through_content_and_is_audited(
    service: tuple[Any, httpx.AsyncClient], actors: Actors
) -> None:
    app, client = service
    withdrawn: list[tuple[int, dict[str, Any], str]] = []
    fake_content = FastAPI()

    @fake_content.post("/api/content/v1/publications/{pub_id}/withdraw")
    async def withdraw(pub_id: int, request: Request) -> dict[str, Any]:
        withdrawn.append((pub_id, await request.json(), request.headers.get("authorization", "")))
        return {"id": pub_id, "status": "withdrawn"}

    ctx = app.state.ctx
    ctx.directory.register_app("content", fake_content)
    # the internal token comes from identity; hand the directory a fixed one for this test
    ctx.directory.auth._token, ctx.directory.auth._expires = "internal-test-token", 4e9

    rid = await stored_resource(client, actors)
    await feed(app, [publication_event(1, 31, rid, "published"), publication_event(2, 32, rid, "published"),
                     publication_event(3, 33, rid, "archived")])  # fmt: skip
    resp = await client.post(
        f"{API}/resources/{rid}/retire",
        params={"force": "true"},
        json={"reason": "内容违规"},
        headers=actors.admin,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["withdrawn"] == [31, 32]
    assert [(p, b["reason"]) for p, b, _ in withdrawn] == [
        (31, "资源废止: 内容违规"),
        (32, "资源废止: 内容违规"),
    ]
    assert all(auth == "Bearer internal-test-token" for _, _, auth in withdrawn)
    audit = (await client.get(f"{API}/resources/{rid}/retirements", headers=actors.admin)).json()
    assert len(audit) == 1
    assert audit[0]["actor"] == "root" and audit[0]["reason"] == "内容违规" and audit[0]["forced"] is True
    assert audit[0]["withdrawn"] == [31, 32] and audit[0]["at"].endswith("+08:00")


async def test_forced_retire_rolls_back_when_content_fails(
    service: tuple[Any, httpx.AsyncClient], actors: Actors
) -> None:
    app, client = service
    broken = FastAPI()

    @broken.post("/api/content/v1/publications/{pub_id}/withdraw")
    async def withdraw(pub_id: int) -> JSONResponse:
        return JSONResponse({"title": "服务器内部错误"}, status_code=500)

    ctx = app.state.ctx
    ctx.directory.register_app("content", broken)
    ctx.directory.auth._token, ctx.directory.auth._expires = "t", 4e9
    rid = await stored_resource(client, actors)
    await feed(app, [publication_event(1, 41, rid, "published")])
    resp = await client.post(
        f"{API}/resources/{rid}/retire", params={"force": "true"}, json={"reason": "x"}, headers=actors.admin
    )
    assert resp.status_code == 503
    current = (await client.get(f"{API}/resources/{rid}", headers=actors.editor)).json()
    assert current["status"] == "stored"
    assert (await client.get(f"{API}/resources/{rid}/retirements", headers=actors.admin)).json() == []
