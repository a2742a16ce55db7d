"""Letters on the service alone: bad input, floods, duplicates, who sees what."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from services.interaction.models import Letter, LetterEvent
from tests.interaction.conftest import SPAM, Actors, letter

API = "/api/interaction/v1"


async def count_rows(service: tuple[Any, httpx.AsyncClient]) -> tuple[int, int]:
    async with service[0].state.ctx.db.session() as session:
        letters = (await session.execute(select(func.count()).select_from(Letter))).scalar_one()
        events = (await session.execute(select(func.count()).select_from(LetterEvent))).scalar_one()
    return int(letters), int(events)


async def test_every_bad_input_gets_a_clear_problem_and_leaves_nothing(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    cases: list[tuple[dict[str, Any], dict[str, str], int, str]] = [
        (letter(title="   "), actors.citizen, 422, "title"),
        (letter(body=""), actors.citizen, 422, "body"),
        (letter(title="长" * 100_000), actors.citizen, 422, "title"),
        (letter(body="请看<script>alert(1)</script>"), actors.citizen, 422, "body"),
        (letter(title="<img src=x onerror=alert(1)>"), actors.citizen, 422, "title"),
        (letter(body="正文\x00后半"), actors.citizen, 422, "body"),
        (letter(title="标题\x1b[2J"), actors.citizen, 422, "title"),
        (letter(recipient="nosuch"), actors.citizen, 422, "recipient"),
        (letter(kind="petition"), actors.citizen, 422, "kind"),
        (letter(), {**actors.citizen, "X-Jiyue-Site": "nosuch"}, 404, ""),
        (letter(), {"X-Jiyue-Site": "jtj"}, 422, "anonymous"),
    ]
    for body, headers, status, field in cases:
        resp = await client.post(f"{API}/letters", json=body, headers=headers)
        assert resp.status_code == status, (field, resp.text[:300])
        assert resp.headers["content-type"].startswith("application/problem+json")
        problem = resp.json()
        assert problem["title"] and problem["detail"]
        if field:
            assert field in {e["field"] for e in problem["errors"]}, problem
    no_site = await client.post(
        f"{API}/letters", json=letter(), headers={"Authorization": actors.citizen["Authorization"]}
    )
    assert no_site.status_code == 404
    assert await count_rows(service) == (0, 0)


async def test_a_thousand_anonymous_letters_from_one_network_are_throttled(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    statuses: dict[int, int] = {}
    retry_after = set()
    for i in range(1000):
        headers = {**actors.anonymous, "X-Jiyue-Client-IP": f"2001:db8:1:2::{i:x}"}
        body = letter(anonymous=True, title=f"路灯不亮 {i}")
        resp = await client.post(f"{API}/letters", json=body, headers=headers)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        if resp.status_code == 429:
            retry_after.add(resp.headers.get("retry-after") is not None)
            assert resp.headers["content-type"].startswith("application/problem+json")
    assert statuses == {201: 5, 429: 995}
    assert retry_after == {True}
    elsewhere = {**actors.anonymous, "X-Jiyue-Client-IP": "2001:db8:1:3::1"}
    assert (
        await client.post(f"{API}/letters", json=letter(anonymous=True), headers=elsewhere)
    ).status_code == 201
    assert (await count_rows(service))[0] == 6


async def test_the_same_letter_fifty_times_creates_one(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    codes = [
        (await client.post(f"{API}/letters", json=letter(), headers=actors.citizen)).status_code
        for _ in range(50)
    ]
    assert codes.count(201) == 1 and codes.count(409) == 49
    for i in range(50):  # and anonymously, from fifty different networks
        headers = {**actors.anonymous, "X-Jiyue-Client-IP": f"198.51.100.{i}"}
        await client.post(
            f"{API}/letters", json=letter(anonymous=True, title="同一封匿名信"), headers=headers
        )
    assert (await count_rows(service))[0] == 2


async def test_non_public_letters_are_404_to_everyone_but_the_writer_and_the_sites_staff(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    letter_id = (await client.post(f"{API}/letters", json=letter(), headers=actors.citizen)).json()["id"]
    for headers in (actors.other_citizen, actors.other_handler, actors.admin, actors.anonymous):
        assert (await client.get(f"{API}/letters/{letter_id}", headers=headers)).status_code == 404
        assert (await client.get(f"{API}/public/letters/{letter_id}", headers=headers)).status_code == 404
    assert (
        await client.post(f"{API}/letters/{letter_id}/accept", json={}, headers=actors.other_handler)
    ).status_code == 404
    assert (
        await client.post(f"{API}/letters/{letter_id}/accept", json={}, headers=actors.citizen)
    ).status_code == 404
    mine = (await client.get(f"{API}/letters/{letter_id}", headers=actors.citizen)).json()
    assert mine["status"] == "received" and mine["writer_name"] == "王小明"
    assert (await client.get(f"{API}/letters/{letter_id}", headers=actors.handler)).status_code == 200
    assert (await client.get(f"{API}/inbox", headers=actors.other_handler)).status_code == 403


async def test_machine_review_keeps_spam_from_every_person(client: httpx.AsyncClient, actors: Actors) -> None:
    resp = await client.post(f"{API}/letters", json=letter(body=f"{SPAM} 注册送彩金"), headers=actors.citizen)
    assert resp.status_code == 201 and resp.json()["status"] == "screened_out"
    letter_id = resp.json()["id"]
    assert (await client.get(f"{API}/letters/{letter_id}", headers=actors.handler)).status_code == 404
    assert (await client.get(f"{API}/inbox", headers=actors.handler)).json()["total"] == 0


async def test_refusal_takes_a_reason_from_the_sites_list(client: httpx.AsyncClient, actors: Actors) -> None:
    letter_id = (await client.post(f"{API}/letters", json=letter(), headers=actors.citizen)).json()["id"]
    bad = await client.post(
        f"{API}/letters/{letter_id}/refuse", json={"reason": "boring"}, headers=actors.handler
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    resp = await client.post(
        f"{API}/letters/{letter_id}/refuse",
        json={"reason": "petition", "note": "请走信访渠道"},
        headers=actors.handler,
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "refused" and body["refusal_reason"] == "petition"
    assert body["deadline"]["state"] == "met"
    again = await client.post(f"{API}/letters/{letter_id}/accept", json={}, headers=actors.handler)
    assert again.status_code == 409


async def test_anonymous_writer_follows_and_rates_with_the_query_code(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    headers = {**actors.anonymous, "X-Jiyue-Client-IP": "203.0.113.9"}
    receipt = (await client.post(f"{API}/letters", json=letter(anonymous=True), headers=headers)).json()
    code, letter_id = receipt["query_code"], receipt["id"]
    assert code and len(code) >= 16
    view = (await client.post(f"{API}/letters/lookup", json={"query_code": code})).json()
    assert view["id"] == letter_id and view["writer_name"] == "" and view["anonymous"] is True
    assert (await client.post(f"{API}/letters/lookup", json={"query_code": "x" * 16})).status_code == 404
    for step, body in (("accept", {}), ("assign", {"org": "yzc"}), ("reply", {"text": "已处理。"})):
        assert (
            await client.post(f"{API}/letters/{letter_id}/{step}", json=body, headers=actors.handler)
        ).status_code == 200
    early = await client.post(
        f"{API}/letters/{letter_id}/rating", json={"level": "满意"}, headers=actors.handler
    )
    assert early.status_code == 403
    rated = await client.post(f"{API}/letters/{letter_id}/rating", json={"level": "满意", "query_code": code})
    assert rated.status_code == 200 and rated.json()["rating"] == "满意"
    again = await client.post(
        f"{API}/letters/{letter_id}/rating", json={"level": "不满意", "query_code": code}
    )
    assert again.status_code == 409
