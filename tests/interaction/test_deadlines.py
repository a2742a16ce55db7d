"""Deadlines in working days across the 2026/2027 boundary, the operator table, overdue sweeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from services.interaction.models import AuditEntry
from services.interaction.service.sweep import sweep
from services.kernel import clock
from tests.interaction.conftest import MAILBOX, TABLE_2027, Actors, letter
from tests.support.tokens import TestIssuer

API = "/api/interaction/v1"


def travel_to(year: int, month: int, day: int, hour: int = 10) -> None:
    """Put the platform clock at a Shanghai wall-clock time (tests run on any real date)."""
    target = datetime(year, month, day, hour, tzinfo=clock.SHANGHAI)
    clock.shift(target - clock.now())


async def submit(client: httpx.AsyncClient, actors: Actors, **overrides: Any) -> int:
    resp = await client.post(f"{API}/letters", json=letter(**overrides), headers=actors.citizen)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


async def test_without_the_2027_table_the_deadline_is_explicitly_unknown_and_the_table_moves_it(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors, issuer: TestIssuer
) -> None:
    travel_to(2026, 12, 31)  # Thursday, the last working day before the New Year holiday
    letter_id = await submit(client, actors)

    deadline = (await client.get(f"{API}/letters/{letter_id}/deadline", headers=actors.handler)).json()
    assert deadline["state"] == "deadline_unknown"
    assert deadline["due_on"] is None and deadline["overdue"] is False
    assert "2027" in deadline["reason"]
    assert deadline["day_zero"] == "2026-12-31"
    assert deadline["inspection_due_on"] == "2027-03-31"

    refused = await client.put(f"{API}/calendar/years/2027", json=TABLE_2027, headers=actors.site_admin)
    assert refused.status_code == 403

    resp = await client.put(f"{API}/calendar/years/2027", json=TABLE_2027, headers=actors.admin)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["source"] == "operator" and len(body["holidays"]) == 3
    [moved] = body["moved"]
    assert (
        (moved["subject"], moved["id"]) == ("letter", letter_id)
        and moved["before"] is None
        and moved["after"] == "2027-01-06"
    )
    assert "2027" in moved["reason"] and TABLE_2027["note"] in moved["reason"]

    deadline = (await client.get(f"{API}/letters/{letter_id}/deadline", headers=actors.handler)).json()
    assert deadline["state"] == "scheduled" and deadline["due_on"] == "2027-01-06"
    assert [s["date"] for s in deadline["skipped"]] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert deadline["remind_on"] == "2027-01-05"

    view = (await client.get(f"{API}/letters/{letter_id}", headers=actors.handler)).json()
    moves = [e for e in view["events"] if e["action"] == "deadline_moved"]
    assert len(moves) == 1 and moves[0]["detail"]["after"] == "2027-01-06" and moves[0]["actor"] == "root"

    # Entering the same table again moves nothing; a 调休 Saturday inside the count moves it back.
    again = await client.put(f"{API}/calendar/years/2027", json=TABLE_2027, headers=actors.admin)
    assert again.json()["moved"] == []
    with_saturday = {**TABLE_2027, "workdays": [{"date": "2027-01-02", "name": "调休"}]}
    with_saturday["holidays"] = TABLE_2027["holidays"][:1] + TABLE_2027["holidays"][2:]
    moved = (await client.put(f"{API}/calendar/years/2027", json=with_saturday, headers=actors.admin)).json()
    assert [(m["before"], m["after"]) for m in moved["moved"]] == [("2027-01-06", "2027-01-05")]

    app = service[0]
    async with app.state.ctx.db.session() as session:
        actions = [a.action for a in (await session.execute(select(AuditEntry))).scalars()]
    assert actions.count("calendar.put") == 3
    auditor = {"Authorization": issuer.headers("aud", [("audit_admin", None)])["Authorization"]}
    trail = (await client.get(f"{API}/audit", headers=auditor)).json()
    assert [i["action"] for i in trail["items"]][:3] == ["calendar.put"] * 3
    assert trail["items"][0]["actor"] == "root" and trail["items"][0]["detail"]["note"] == TABLE_2027["note"]
    assert (await client.get(f"{API}/audit", headers=actors.admin)).status_code == 403


async def test_with_the_table_entered_first_the_deadline_is_known_at_once(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    assert (
        await client.put(f"{API}/calendar/years/2027", json=TABLE_2027, headers=actors.admin)
    ).status_code == 200
    travel_to(2026, 12, 31, hour=23)
    letter_id = await submit(client, actors)
    deadline = (await client.get(f"{API}/letters/{letter_id}/deadline", headers=actors.citizen)).json()
    assert deadline["state"] == "scheduled" and deadline["due_on"] == "2027-01-06"

    # Accepted as complex: ten working days from the same day zero.
    resp = await client.post(
        f"{API}/letters/{letter_id}/accept", json={"complexity": "complex"}, headers=actors.handler
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["deadline"]["due_on"] == "2027-01-15"


async def test_calendar_reads_and_bad_tables(client: httpx.AsyncClient, actors: Actors) -> None:
    published = (await client.get(f"{API}/calendar/years/2026", headers=actors.admin)).json()
    assert published["source"] == "chinese-calendar"
    assert {"date": "2026-02-28", "kind": "adjusted_workday", "name": "春节"} in published["workdays"]
    missing = await client.get(f"{API}/calendar/years/2028", headers=actors.admin)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert (await client.get(f"{API}/calendar/years/2026", headers=actors.citizen)).status_code == 403
    bad = {
        "holidays": [{"date": "2026-12-31", "name": "元旦"}],
        "workdays": [{"date": "2027-01-06", "name": "x"}],
    }
    resp = await client.put(f"{API}/calendar/years/2027", json=bad, headers=actors.admin)
    assert resp.status_code == 422
    assert {e["field"] for e in resp.json()["errors"]} == {"holidays", "workdays"}
    assert (await client.get(f"{API}/calendar/years/2027", headers=actors.admin)).status_code == 404


async def test_reminders_and_overdue_alerts_fire_once_as_the_clock_moves(
    service: tuple[Any, httpx.AsyncClient], client: httpx.AsyncClient, actors: Actors
) -> None:
    db = service[0].state.ctx.db
    travel_to(2026, 12, 7)  # Monday: due Thursday 10 December, reminder Wednesday
    letter_id = await submit(client, actors)

    async def run() -> tuple[list[int], list[int]]:
        async with db.session() as session:
            done = await sweep(session)
        return done.reminded, done.overdue

    assert await run() == ([], [])
    travel_to(2026, 12, 9)
    assert await run() == ([letter_id], [])
    assert await run() == ([], [])
    travel_to(2026, 12, 10, hour=23)
    assert await run() == ([], [])
    view = (await client.get(f"{API}/letters/{letter_id}", headers=actors.handler)).json()
    assert view["deadline"]["overdue"] is False
    travel_to(2026, 12, 11)
    assert await run() == ([], [letter_id])
    assert await run() == ([], [])

    view = (await client.get(f"{API}/letters/{letter_id}", headers=actors.handler)).json()
    assert view["deadline"]["overdue"] is True
    assert [e["action"] for e in view["events"]].count("overdue") == 1
    assert [e["action"] for e in view["events"]].count("reminded") == 1
    inbox = (await client.get(f"{API}/inbox", params={"overdue": True}, headers=actors.handler)).json()
    assert inbox["total"] == 1 and inbox["items"][0]["overdue"] is True

    internal = {"Authorization": actors.admin["Authorization"]}
    feed = (await client.get(f"{API}/changes", params={"topics": "letter.overdue"}, headers=internal)).json()
    assert [e["key"] for e in feed["items"]] == [str(letter_id)]


async def test_each_site_sets_its_days_per_letter_type(client: httpx.AsyncClient, actors: Actors) -> None:
    mailbox = {**MAILBOX, "deadlines": {"consultation": {"ordinary": 5, "complex": 20}}}
    assert (await client.put(f"{API}/mailbox", json=mailbox, headers=actors.site_admin)).status_code == 200
    assert (await client.put(f"{API}/mailbox", json=mailbox, headers=actors.handler)).status_code == 403
    travel_to(2026, 12, 7)
    consultation = await submit(client, actors, kind="consultation", title="咨询")
    complaint = await submit(client, actors, kind="complaint", title="投诉")
    due = {
        lid: (await client.get(f"{API}/letters/{lid}/deadline", headers=actors.handler)).json()
        for lid in (consultation, complaint)
    }
    assert (due[consultation]["days"], due[consultation]["due_on"]) == (5, "2026-12-14")
    assert (due[complaint]["days"], due[complaint]["due_on"]) == (3, "2026-12-10")
    public = (await client.get(f"{API}/mailbox", headers=actors.anonymous)).json()
    assert public["deadlines"]["consultation"] == {"ordinary": 5, "complex": 20}
    assert set(public["refusal_reasons"]) == {"litigation", "petition", "duplicate", "out_of_remit"}
