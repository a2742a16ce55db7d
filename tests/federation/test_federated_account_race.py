"""A province user's first sign-in finished in two tabs at once: one local account, linked once,
and both sign-ins succeed (the loser of the insert race uses the winner's account), on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from services.identity.models import FederatedAccount, TrustedIssuer, User
from services.identity.service.common import Actor
from services.identity.service.federated_signin import _account
from services.identity.service.federation_client import Redeemed
from services.kernel import clock
from tests.support import real
from tests.support.services import running_service

N = 4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else await real.fresh_postgres_database()


async def test_concurrent_first_sign_ins_make_one_account(tmp_path: Path, database_url: str) -> None:
    # each sign-in hashes an unknowable password; on a busy machine they queue for argon2's slots
    service = running_service("identity", tmp_path, database_url=database_url, identity_hash_wait_seconds=120)
    async with service as (app, _client):
        ctx = app.state.ctx
        at = clock.epoch()
        async with ctx.db.session() as session:
            issuer = TrustedIssuer(
                code="prov",
                name="省级平台",
                issuer="http://127.0.0.2:8443",
                client_id="city-platform",
                created_at=at,
                updated_at=at,
                updated_by="test",
            )
            session.add(issuer)
            await session.commit()
            await session.refresh(issuer)
        redeemed = Redeemed(claims={"sub": "inspector-7"}, userinfo={"name": "省督查员"})

        async def sign_in() -> int:
            async with ctx.db.session() as session:
                user, _link = await _account(session, ctx.state, issuer, redeemed, Actor("test"))
                await session.commit()
                return int(user.id or 0)

        ids = await asyncio.gather(*(sign_in() for _ in range(N)))
        assert len(set(ids)) == 1 and ids[0] > 0
        async with ctx.db.session() as session:
            links = (await session.execute(select(func.count()).select_from(FederatedAccount))).scalar()
            named = select(func.count()).select_from(User).where(col(User.username) == "prov:inspector-7")
            assert links == 1 and (await session.execute(named)).scalar() == 1
