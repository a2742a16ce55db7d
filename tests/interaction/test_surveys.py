"""调查 in the interaction service alone: one answer per person under concurrency, results that do
not exist before the close for anyone, answer validation, and an export nobody can be found in."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from typing import Any

import httpx

from services.interaction.service import surveys
from services.kernel import clock
from tests.interaction.conftest import SITE, Actors
from tests.support.tokens import TestIssuer

API = "/api/interaction/v1"
QUESTIONS = [
    {"id": "q1", "kind": "single", "text": "出行方式", "options": ["公交", "地铁", "出租车"]},
    {"id": "q2", "kind": "multiple", "text": "关心的问题", "options": ["票价", "准点", "拥挤"]},
    {"id": "q3", "kind": "scale", "text": "满意度", "scale_max": 5},
    {"id": "q4", "kind": "text", "text": "建议", "required": False},
]


def survey(**overrides: Any) -> dict[str, Any]:
    now = clock.now()
    body: dict[str, Any] = {
        "title": "公共交通满意度调查",
        "questions": QUESTIONS,
        "starts_at": clock.to_wire(now - timedelta(minutes=1)),
        "ends_at": clock.to_wire(now + timedelta(hours=1)),
    }
    body.update(overrides)
    return body


async def _open(client: httpx.AsyncClient, actors: Actors, **overrides: Any) -> int:
    made = await client.post(f"{API}/surveys", json=survey(**overrides), headers=actors.handler)
    assert made.status_code == 201, made.text
    sid = int(made.json()["id"])
    assert (await client.post(f"{API}/surveys/{sid}/open", headers=actors.handler)).status_code == 200
    return sid


def _answer(q1: int = 0, **more: Any) -> dict[str, Any]:
    return {"answers": {"q1": q1, "q2": [1], "q3": 3, **more}}


async def test_one_person_answering_at_once_many_times_counts_once(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    sid = await _open(client, actors)
    url = f"{API}/surveys/{sid}/answer"
    answers = await asyncio.gather(
        *(client.put(url, json=_answer(i % 3), headers=actors.citizen) for i in range(12))
    )
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers if r.status_code != 200]
    mine = (await client.get(url, headers=actors.citizen)).json()
    assert mine["revisions"] == 12
    assert (await client.put(url, json=_answer(1), headers=actors.other_citizen)).status_code == 200
    assert (await client.get(url, headers=actors.handler)).status_code == 404  # the handler never answered
    await client.post(f"{API}/surveys/{sid}/close", headers=actors.handler)
    results = (await client.get(f"{API}/public/surveys/{sid}/results", headers=actors.anonymous)).json()
    assert results["total_answers"] == 2
    q1 = results["questions"][0]
    assert sum(o["count"] for o in q1["options"]) == 2
    assert q1["options"][1]["count"] >= 1  # the other citizen's; the first one's last write is the other
    page = (await client.get(f"{API}/surveys/{sid}/answers", headers=actors.handler)).json()
    assert len(page["items"]) == results["total_answers"]


async def test_results_do_not_exist_before_the_close_for_any_role(
    client: httpx.AsyncClient, actors: Actors, issuer: TestIssuer
) -> None:
    sid = await _open(client, actors)
    draft = (await client.post(f"{API}/surveys", json=survey(), headers=actors.handler)).json()["id"]
    await client.put(f"{API}/surveys/{sid}/answer", json=_answer(), headers=actors.citizen)
    callers = {
        "anonymous": actors.anonymous,
        "citizen": actors.citizen,
        "editor": actors.handler,
        "reviewer": issuer.headers("rv", [("reviewer", SITE)], site=SITE),
        "auditor": issuer.headers("au", [("auditor", SITE)], site=SITE),
        "site_admin": actors.site_admin,
        "platform_admin": actors.admin,
        "internal": issuer.headers("svc", [], scope="internal changes:read", kind="client", site=SITE),
    }
    for name, headers in callers.items():
        for path in ("results", "chart?question=q1"):
            early = await client.get(f"{API}/public/surveys/{sid}/{path}", headers=headers)
            assert early.status_code == 403, (name, path, early.text)
            hidden = await client.get(f"{API}/public/surveys/{draft}/{path}", headers=headers)
            assert hidden.status_code == 404, (name, path)
        for path in ("answers", "export"):
            staff = await client.get(f"{API}/surveys/{sid}/{path}", headers=headers)
            assert staff.status_code in (401, 403, 404), (name, path, staff.status_code)
    clock.shift(timedelta(hours=2))  # the end passes: nobody has to close it
    for name, headers in callers.items():
        resp = await client.get(f"{API}/public/surveys/{sid}/results", headers=headers)
        assert resp.status_code == 200 and resp.json()["total_answers"] == 1, name
    listed = (await client.get(f"{API}/public/surveys", headers=actors.anonymous)).json()["items"]
    assert [(s["id"], s["status"], s["results_available"]) for s in listed] == [(sid, "closed", True)]


async def test_answers_are_checked_against_the_questions(client: httpx.AsyncClient, actors: Actors) -> None:
    sid = await _open(client, actors)
    url = f"{API}/surveys/{sid}/answer"
    cases = [
        ({"answers": {"q1": 3, "q2": [0], "q3": 1}}, "answers.q1"),
        ({"answers": {"q1": True, "q2": [0], "q3": 1}}, "answers.q1"),
        ({"answers": {"q1": 0, "q2": [0, 7], "q3": 1}}, "answers.q2"),
        ({"answers": {"q1": 0, "q2": [0], "q3": 6}}, "answers.q3"),
        ({"answers": {"q1": 0, "q2": [0]}}, "answers.q3"),
        ({"answers": {"q1": 0, "q2": [0], "q3": 1, "q9": 1}}, "answers.q9"),
        ({"answers": {"q1": 0, "q2": [0], "q3": 1, "q4": "x" * 2001}}, "answers.q4"),
    ]
    for body, field in cases:
        resp = await client.put(url, json=body, headers=actors.citizen)
        assert resp.status_code == 422, (field, resp.text)
        assert field in resp.text, (field, resp.text)
    bad_surveys = [
        survey(questions=[{"id": "a", "kind": "single", "text": "只有一个选项", "options": ["是"]}]),
        survey(questions=[{"id": "a", "kind": "scale", "text": "没有上限"}]),
        survey(questions=[QUESTIONS[0], QUESTIONS[0]]),
        survey(ends_at="2020-01-01T00:00:00+08:00"),
    ]
    for body in bad_surveys:
        assert (await client.post(f"{API}/surveys", json=body, headers=actors.handler)).status_code == 422
    assert (
        await client.put(f"{API}/surveys/{sid}", json=survey(), headers=actors.handler)
    ).status_code == 409
    assert (await client.put(url, json=_answer(), headers=actors.anonymous)).status_code == 401


async def test_the_export_names_nobody(client: httpx.AsyncClient, actors: Actors) -> None:
    sid = await _open(client, actors)
    url = f"{API}/surveys/{sid}/answer"
    text = '我是王小明，电话13812345678，=HYPERLINK("http://x")'
    await client.put(url, json=_answer(2, q4=text), headers=actors.citizen)
    await client.put(url, json=_answer(0, q4="=1+1"), headers=actors.other_citizen)
    await client.post(f"{API}/surveys/{sid}/close", headers=actors.handler)
    resp = await client.get(f"{API}/surveys/{sid}/export", headers=actors.handler)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "private, no-store"
    body = resp.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "序号" and [r[1] for r in rows[1:]] == ["出租车", "公交"]
    for leak in ("13812345678", "c1", "c2", "王小明", "李四"):
        assert leak not in body, leak
    assert rows[2][4] == "'=1+1"  # a spreadsheet shows it, never runs it
    assert (await client.get(f"{API}/surveys/{sid}/export", headers=actors.other_handler)).status_code == 404
    assert (
        await client.get(f"{API}/surveys/{sid}/export", params={"format": "pdf"}, headers=actors.handler)
    ).status_code == 422


async def test_the_end_passing_closes_and_announces_without_anyone_looking(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    sid = await _open(client, actors)
    app = service[0]
    async with app.state.ctx.db.session() as session:
        assert await surveys.close_due(session) == 0
    clock.shift(timedelta(hours=2))
    async with app.state.ctx.db.session() as session:
        assert await surveys.close_due(session) == 1
    async with app.state.ctx.db.session() as session:
        assert await surveys.close_due(session) == 0
    changes = (await client.get(f"{API}/changes", headers=actors.admin)).json()["items"]
    assert [(e["topic"], e["key"]) for e in changes if e["topic"].startswith("survey.")] == [
        ("survey.created", str(sid)),
        ("survey.opened", str(sid)),
        ("survey.closed", str(sid)),
    ]
