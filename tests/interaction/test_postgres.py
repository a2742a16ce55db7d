"""The same rules on PostgreSQL: date comparisons, the duplicate constraint, the once-only marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.interaction.service.sweep import sweep
from tests.interaction.conftest import MAILBOX, TABLE_2027, Actors, fake_pages, fake_review, letter
from tests.interaction.test_deadlines import travel_to
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
