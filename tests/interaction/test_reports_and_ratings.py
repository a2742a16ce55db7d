"""找错 reports (routed, answered in 3 working days, all public) and 好差评 ratings."""

from __future__ import annotations

from typing import Any

import httpx

from services.interaction.service.sweep import sweep
from tests.interaction.conftest import TABLE_2027, Actors, letter
from tests.interaction.test_deadlines import travel_to

API = "/api/interaction/v1"


async def test_a_report_is_routed_to_the_columns_editor_answered_and_public(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    travel_to(2026, 12, 7)
    body = {
        "kind": "wrong_content",
        "page_url": "https://jtj.example.gov.cn/sites/jtj/api/content/v1/items/42",
        "description": "发布日期写错了，我的电话 13812345678，13912345678 回访",
    }
    resp = await client.post(f"{API}/reports", json=body, headers=actors.anonymous)
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert report["publication_id"] == 42 and report["column_id"] == 7
    assert report["due_on"] == "2026-12-10" and report["deadline_state"] == "scheduled"
    assert "13812345678" not in resp.text and "13912345678" not in resp.text
    assert [r["kind"] for r in report["redactions"]] == ["mobile", "mobile"]

    staff = (await client.get(f"{API}/reports/{report['id']}", headers=actors.handler)).json()
    assert staff["assignee"] == "ed7" and "13812345678" in staff["original_description"]
    assert (
        await client.get(f"{API}/reports/{report['id']}", headers=actors.other_handler)
    ).status_code == 404

    unmatched = {**body, "page_url": "/zwgk/index.html", "kind": "broken_link"}
    other = (await client.post(f"{API}/reports", json=unmatched, headers=actors.citizen)).json()
    assert other["publication_id"] is None and other["column_id"] is None

    travel_to(2026, 12, 11)
    async with service[0].state.ctx.db.session() as session:
        assert (await sweep(session)).reports_overdue == [report["id"], other["id"]]
    async with service[0].state.ctx.db.session() as session:
        assert (await sweep(session)).reports_overdue == []

    answered = await client.post(
        f"{API}/reports/{report['id']}/answer", json={"text": "已更正，谢谢。"}, headers=actors.handler
    )
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    again = await client.post(
        f"{API}/reports/{report['id']}/answer", json={"text": "x"}, headers=actors.handler
    )
    assert again.status_code == 409

    public = (await client.get(f"{API}/public/reports", headers=actors.anonymous)).json()
    assert public["total"] == 2
    assert {i["status"] for i in public["items"]} == {"answered", "received"}
    assert all(i["overdue"] for i in public["items"])  # late answers stay visible as late
    assert "assignee" not in public["items"][0] and "13812345678" not in str(public)

    for bad in (
        {**body, "kind": "typo"},
        {**body, "page_url": "javascript:alert(1)"},
        {**body, "description": " "},
    ):
        assert (await client.post(f"{API}/reports", json=bad, headers=actors.citizen)).status_code == 422


async def test_a_bad_rating_opens_a_rectification_that_closes_only_with_a_call_back(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    travel_to(2026, 12, 7)
    rating = {
        "target": "service",
        "ref": "jtj-yyzz",
        "level": "非常不满意",
        "items": ["办事效率低"],
        "comment": "跑了三次，回电 13812345678 或 0415-3123456",
    }
    resp = await client.post(f"{API}/ratings", json=rating, headers=actors.citizen)
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["rectification_id"] is not None and "c1" not in resp.text

    again = await client.post(
        f"{API}/ratings", json={**rating, "level": "满意", "items": []}, headers=actors.citizen
    )
    assert again.status_code == 409
    for method in ("PUT", "PATCH", "DELETE"):
        assert (await client.request(method, f"{API}/ratings", headers=actors.handler)).status_code == 405

    no_reason = await client.post(
        f"{API}/ratings", json={**rating, "items": []}, headers=actors.other_citizen
    )
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "items"
    wrong_item = await client.post(
        f"{API}/ratings", json={**rating, "items": ["服务态度好"]}, headers=actors.other_citizen
    )
    assert wrong_item.status_code == 422

    task_id = out["rectification_id"]
    task = (await client.get(f"{API}/rectifications/{task_id}", headers=actors.handler)).json()
    assert task["status"] == "open" and task["due_on"] == "2026-12-28"  # 15 working days
    assert (
        await client.get(f"{API}/rectifications/{task_id}", headers=actors.other_handler)
    ).status_code == 404
    travel_to(2026, 12, 29)  # a day past the 15 working days: alerted once, shown as late
    for expected in ([task_id], []):
        async with service[0].state.ctx.db.session() as session:
            assert (await sweep(session)).rectifications_overdue == expected
    late = (await client.get(f"{API}/rectifications/{task_id}", headers=actors.handler)).json()
    assert late["overdue"] is True
    missing = await client.post(
        f"{API}/rectifications/{task_id}/close", json={"measures": "优化流程"}, headers=actors.handler
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "callback_record"
    closed = await client.post(
        f"{API}/rectifications/{task_id}/close",
        json={"measures": "优化流程", "callback_record": "12月9日电话回访，群众表示认可"},
        headers=actors.handler,
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"

    tally = (
        await client.get(f"{API}/public/ratings", params={"target": "service"}, headers=actors.handler)
    ).json()
    assert tally["total"] == 1 and "rater" not in str(tally) and "c1" not in str(tally)
    assert "13812345678" not in str(tally) and "0415-3123456" not in str(tally)
    assert [r["kind"] for r in tally["items"][0]["redactions"]] == ["mobile", "landline"]


async def test_a_writers_bad_rating_of_a_reply_opens_rectification_too(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    lid = (await client.post(f"{API}/letters", json=letter(), headers=actors.citizen)).json()["id"]
    for step, body in (("accept", {}), ("assign", {"org": "yzc"}), ("reply", {"text": "已处理。"})):
        assert (
            await client.post(f"{API}/letters/{lid}/{step}", json=body, headers=actors.handler)
        ).status_code == 200
    bad = await client.post(
        f"{API}/letters/{lid}/rating",
        json={"level": "不满意", "items": ["问题未解决"]},
        headers=actors.citizen,
    )
    assert bad.status_code == 200, bad.text
    tally = (
        await client.get(
            f"{API}/public/ratings", params={"target": "reply", "ref": str(lid)}, headers=actors.anonymous
        )
    ).json()
    assert tally["total"] == 1 and tally["items"][0]["rectification_id"] is not None


async def test_entering_a_year_moves_open_reports_and_rectifications_too(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    travel_to(2026, 12, 31)
    body = {"kind": "broken_link", "page_url": "/zwgk/index.html", "description": "链接打不开"}
    report = (await client.post(f"{API}/reports", json=body, headers=actors.citizen)).json()
    assert report["deadline_state"] == "deadline_unknown" and report["due_on"] is None
    assert "2027" in report["deadline_reason"]
    rating = {"target": "page", "ref": "/zwgk/index.html", "level": "不满意", "items": ["信息不准确"]}
    task_id = (await client.post(f"{API}/ratings", json=rating, headers=actors.citizen)).json()[
        "rectification_id"
    ]
    task = (await client.get(f"{API}/rectifications/{task_id}", headers=actors.handler)).json()
    assert task["deadline_state"] == "deadline_unknown" and "2027" in task["deadline_reason"]

    moved = (await client.put(f"{API}/calendar/years/2027", json=TABLE_2027, headers=actors.admin)).json()[
        "moved"
    ]
    assert {(m["subject"], m["id"], m["after"]) for m in moved} == {
        ("report", report["id"], "2027-01-06"),
        ("rectification", task_id, "2027-01-22"),
    }
    assert all(TABLE_2027["note"] in m["reason"] for m in moved)
    public = (await client.get(f"{API}/public/reports/{report['id']}", headers=actors.anonymous)).json()
    assert public["due_on"] == "2027-01-06" and public["deadline_state"] == "scheduled"
    assert "第 0 日" in public["deadline_reason"] and "元旦" in public["deadline_reason"]
