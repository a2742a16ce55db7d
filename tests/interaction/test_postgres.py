"""The same rules on PostgreSQL: date comparisons, the duplicate constraint, the once-only marks,
one survey answer per person under concurrent upserts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.interaction.service.sweep import sweep
from tests.interaction.conftest import MAILBOX, TABLE_2027, Actors, fake_pages, fake_review, letter
from tests.interaction.test_deadlines import travel_to
from tests.interaction.test_surveys import _answer as answer
from tests.interaction.test_surveys import _open as open_survey
from tests.support import real
from tests.support.services import running_service
from tests.support.tokens import TestIssuer

API = "/api/interaction/v1"


@pytest.mark.integration
async def test_letters_deadlines_and_duplicates_on_postgres(
    tmp_path: Path, issuer: TestIssuer, actors: Actors
) -> None:
    url = await real.fresh_postgres_database()
    async with running_service("interaction", tmp_path / "var", issuer, database_url=url) as (app, client):
        app.state.ctx.state.review = fake_review
        app.state.ctx.state.pages = fake_pages
        assert (
            await client.put(f"{API}/mailbox", json=MAILBOX, headers=actors.site_admin)
        ).status_code == 200
        travel_to(2026, 12, 31)
        codes = [
            (await client.post(f"{API}/letters", json=letter(), headers=actors.citizen)).status_code
            for _ in range(5)
        ]
        assert codes == [201, 409, 409, 409, 409]
        moved = (
            await client.put(f"{API}/calendar/years/2027", json=TABLE_2027, headers=actors.admin)
        ).json()["moved"]
        assert [m["after"] for m in moved] == ["2027-01-06"]
        travel_to(2027, 1, 7)
        async with app.state.ctx.db.session() as session:
            first = await sweep(session)
        async with app.state.ctx.db.session() as session:
            second = await sweep(session)
        assert len(first.overdue) == 1 and second.overdue == [] and second.reminded == []


@pytest.mark.integration
async def test_one_answer_per_person_under_concurrent_upserts_on_postgres(
    tmp_path: Path, issuer: TestIssuer, actors: Actors
) -> None:
    url = await real.fresh_postgres_database()
    async with running_service("interaction", tmp_path / "var", issuer, database_url=url) as (_app, client):
        sid = await open_survey(client, actors)
        answers = await asyncio.gather(
            *(
                client.put(f"{API}/surveys/{sid}/answer", json=answer(i % 3), headers=actors.citizen)
                for i in range(20)
            )
        )
        assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
        await client.post(f"{API}/surveys/{sid}/close", headers=actors.handler)
        results = (await client.get(f"{API}/public/surveys/{sid}/results", headers=actors.anonymous)).json()
        assert results["total_answers"] == 1
        mine = (await client.get(f"{API}/surveys/{sid}/answer", headers=actors.citizen)).json()
        assert mine["revisions"] == 20
