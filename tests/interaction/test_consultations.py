"""意见征集 in the interaction service alone: bad input, moderation, keyset pages, the feedback rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.interaction.api.consultations import _library
from services.kernel import clock
from services.kernel.errors import ValidationFailed
from tests.interaction.conftest import SPAM, Actors

API = "/api/interaction/v1"
STORED = {(5, 2): "示范市出租汽车管理办法"}  # the library's one stored version in these tests


async def fake_library(site: str, resource_id: int, version: int, field: str) -> str:
    if (resource_id, version) not in STORED:
        raise ValidationFailed.field(field, f"资源库中没有已入库资源 {resource_id} 第 {version} 版")
    return STORED[(resource_id, version)]


def draft(**overrides: Any) -> dict[str, Any]:
    now = clock.now()
    body: dict[str, Any] = {
        "title": "示范市出租汽车管理办法（征求意见稿）",
        "paragraphs": [{"anchor": "art-1", "text": "第一条"}, {"anchor": "art-2", "text": "第二条"}],
        "starts_at": clock.to_wire(now - timedelta(minutes=1)),
        "ends_at": clock.to_wire(now + timedelta(days=30)),
    }
    body.update(overrides)
    return body


@pytest.fixture
async def api(service: tuple[Any, httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    app, client = service
    app.dependency_overrides[_library] = lambda: fake_library
    yield client
    app.dependency_overrides.clear()


async def _open(api: httpx.AsyncClient, actors: Actors, **overrides: Any) -> int:
    made = await api.post(f"{API}/consultations", json=draft(**overrides), headers=actors.handler)
    assert made.status_code == 201, made.text
    cid = int(made.json()["id"])
    assert (await api.post(f"{API}/consultations/{cid}/open", headers=actors.handler)).status_code == 200
    return cid


async def test_bad_input_gets_a_4xx_naming_the_field(api: httpx.AsyncClient, actors: Actors) -> None:
    cases = [
        (draft(paragraphs=[{"anchor": "a", "text": "x"}, {"anchor": "a", "text": "y"}]), "paragraphs"),
        (draft(ends_at="2020-01-01T00:00:00+08:00"), "ends_at"),
        (draft(attachments=[{"title": "说明"}]), "attachments"),
        (draft(attachments=[{"title": "说明", "resource_id": 5}]), "resource_version"),
        (draft(title="<script>alert(1)</script>"), "title"),
    ]
    for body, word in cases:
        resp = await api.post(f"{API}/consultations", json=body, headers=actors.handler)
        assert resp.status_code == 422, (word, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert word in resp.text, word
    ghost = draft(attachments=[{"title": "附件", "resource_id": 9, "resource_version": 1}])
    resp = await api.post(f"{API}/consultations", json=ghost, headers=actors.handler)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "attachments.0.resource_id"
    linked = draft(attachments=[{"title": "附件", "resource_id": 5, "resource_version": 2}])
    assert (await api.post(f"{API}/consultations", json=linked, headers=actors.handler)).status_code == 201
    assert (await api.post(f"{API}/consultations", json=draft(), headers=actors.citizen)).status_code == 403

    cid = await _open(api, actors)
    unknown = await api.post(
        f"{API}/consultations/{cid}/comments",
        json={"anchor": "art-9", "body": "意见"},
        headers=actors.citizen,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "anchor"
    anonymous = await api.post(
        f"{API}/consultations/{cid}/comments",
        json={"anchor": "art-1", "body": "意见"},
        headers=actors.anonymous,
    )
    assert anonymous.status_code == 401
    edit = await api.put(f"{API}/consultations/{cid}", json=draft(), headers=actors.handler)
    assert edit.status_code == 409  # published: the text people comment on no longer changes


async def test_moderation_decides_what_is_public_and_the_author_is_told(
    api: httpx.AsyncClient, actors: Actors
) -> None:
    cid = await _open(api, actors)
    url = f"{API}/consultations/{cid}/comments"
    ids = []
    for body in ("建议删除第一条", "无关内容", SPAM):
        resp = await api.post(url, json={"anchor": "art-1", "body": body}, headers=actors.citizen)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    assert (await api.get(f"{API}/consultations/{cid}", headers=actors.other_handler)).status_code == 404
    other = await api.post(
        f"{API}/comments/{ids[0]}/moderation", json={"action": "approve"}, headers=actors.other_handler
    )
    assert other.status_code == 404
    no_reason = await api.post(
        f"{API}/comments/{ids[1]}/moderation", json={"action": "reject"}, headers=actors.handler
    )
    assert no_reason.status_code == 422
    moderate = f"{API}/comments/{{}}/moderation"
    ok = await api.post(moderate.format(ids[0]), json={"action": "approve"}, headers=actors.handler)
    assert ok.status_code == 200
    rejected = await api.post(
        moderate.format(ids[1]), json={"action": "reject", "note": "与征集内容无关"}, headers=actors.handler
    )
    assert rejected.status_code == 200
    again = await api.post(
        moderate.format(ids[0]), json={"action": "reject", "note": "x"}, headers=actors.handler
    )
    assert again.status_code == 409

    mine = (await api.get(f"{url}/mine", headers=actors.citizen)).json()["items"]
    assert [(c["status"], c["moderation_note"]) for c in mine] == [
        ("approved", ""),
        ("rejected", "与征集内容无关"),
        ("blocked", ""),
    ]
    assert mine[2]["review_rules"] == ["spam.casino-brand"] and mine[2]["public_body"] is None
    assert (await api.get(f"{url}/mine", headers=actors.other_citizen)).json()["items"] == []
    public = (await api.get(f"{API}/public/consultations/{cid}/comments", headers=actors.anonymous)).json()
    assert [c["id"] for c in public["items"]] == [ids[0]]
    rejected_list = await api.get(url, params={"status": "rejected"}, headers=actors.handler)
    assert [c["id"] for c in rejected_list.json()["items"]] == [ids[1]]
    assert (await api.get(url, params={"status": "blocked"}, headers=actors.handler)).status_code == 422


async def test_comment_pages_walk_by_keyset_and_filter_by_paragraph(
    api: httpx.AsyncClient, actors: Actors
) -> None:
    cid = await _open(api, actors)
    url = f"{API}/consultations/{cid}/comments"
    for i in range(25):
        resp = await api.post(
            url, json={"anchor": f"art-{1 + i % 2}", "body": f"第{i}条意见"}, headers=actors.citizen
        )
        approve = await api.post(
            f"{API}/comments/{resp.json()['id']}/moderation",
            json={"action": "approve"},
            headers=actors.handler,
        )
        assert approve.status_code == 200
    seen: list[int] = []
    after = 0
    while True:
        page = (
            await api.get(
                f"{API}/public/consultations/{cid}/comments",
                params={"after": after, "size": 10},
                headers=actors.anonymous,
            )
        ).json()
        seen += [c["id"] for c in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert len(seen) == 25 == len(set(seen)) and seen == sorted(seen)
    art2 = await api.get(
        f"{API}/public/consultations/{cid}/comments",
        params={"anchor": "art-2", "size": 100},
        headers=actors.anonymous,
    )
    assert len(art2.json()["items"]) == 12
    view = (await api.get(f"{API}/public/consultations/{cid}", headers=actors.anonymous)).json()
    assert view["published_comments"] == 25 and [p["comments"] for p in view["paragraphs"]] == [13, 12]


async def test_the_feedback_answers_every_published_comment_once(
    api: httpx.AsyncClient, actors: Actors
) -> None:
    cid = await _open(api, actors)
    url = f"{API}/consultations/{cid}/comments"
    ids = [
        (await api.post(url, json={"anchor": "art-1", "body": f"意见{i}"}, headers=actors.citizen)).json()[
            "id"
        ]
        for i in range(3)
    ]
    for comment_id in ids[:2]:
        await api.post(
            f"{API}/comments/{comment_id}/moderation", json={"action": "approve"}, headers=actors.handler
        )
    closed = await api.post(f"{API}/consultations/{cid}/close", headers=actors.handler)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    report = {
        "summary": "反馈",
        "items": [{"comment_ids": ids[:2], "decision": "partly_adopted", "reason": "部分意见已吸收"}],
        "final_resource_id": 5,
        "final_resource_version": 2,
    }
    feedback = f"{API}/consultations/{cid}/feedback"
    pending = await api.post(feedback, json=report, headers=actors.handler)
    assert pending.status_code == 409  # one comment still waits for a person
    await api.post(
        f"{API}/comments/{ids[2]}/moderation",
        json={"action": "reject", "note": "重复"},
        headers=actors.handler,
    )
    twice = {**report, "items": [*report["items"], {"comment_ids": [ids[0]], "decision": "adopted"}]}
    assert (await api.post(feedback, json=twice, headers=actors.handler)).status_code == 422
    rejected = {**report, "items": [{"comment_ids": [*ids], "decision": "adopted"}]}
    assert (await api.post(feedback, json=rejected, headers=actors.handler)).status_code == 422
    no_reason = {**report, "items": [{"comment_ids": ids[:2], "decision": "not_adopted"}]}
    assert (await api.post(feedback, json=no_reason, headers=actors.handler)).status_code == 422
    assert (await api.post(feedback, json=report, headers=actors.citizen)).status_code == 404
    done = await api.post(feedback, json=report, headers=actors.handler)
    assert done.status_code == 200, done.text
    out = done.json()["feedback"]
    assert out["counts"]["partly_adopted"] == 2 and out["final_policy"]["title"] == "示范市出租汽车管理办法"
    assert (await api.post(feedback, json=report, headers=actors.handler)).status_code == 409


async def test_lists_hide_drafts_filter_titles_and_page_by_keyset(
    api: httpx.AsyncClient, actors: Actors
) -> None:
    await api.post(f"{API}/consultations", json=draft(title="尚未发布的草稿"), headers=actors.handler)
    opened = [await _open(api, actors, title=f"第{i}号征集 公交") for i in range(5)]
    ended = await _open(
        api, actors, title="已结束的征集", ends_at=clock.to_wire(clock.now() + timedelta(hours=1))
    )
    clock.shift(timedelta(hours=2))
    public = f"{API}/public/consultations"
    first = (await api.get(public, params={"size": 4}, headers=actors.anonymous)).json()
    second = (
        await api.get(public, params={"size": 4, "before": first["next_before"]}, headers=actors.anonymous)
    ).json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert ids == [ended, *reversed(opened)] and second["next_before"] is None
    assert [
        c["id"]
        for c in (await api.get(public, params={"q": "公交"}, headers=actors.anonymous)).json()["items"]
    ] == list(reversed(opened))
    closed = (await api.get(public, params={"status": "closed"}, headers=actors.anonymous)).json()["items"]
    assert [c["id"] for c in closed] == [ended] and closed[0]["status"] == "closed"
    assert (await api.get(public, params={"status": "draft"}, headers=actors.anonymous)).status_code == 422
    staff = (await api.get(f"{API}/consultations", headers=actors.handler)).json()["items"]
    assert len(staff) == 7
    assert (await api.get(f"{API}/consultations", headers=actors.citizen)).status_code == 403
