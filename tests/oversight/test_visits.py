"""Unique visitors from salted hashes in HyperLogLog sketches: accurate, and nothing personal kept."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from gateway import migrate
from services.kernel.db import Database
from services.oversight.models import DailyViews, VisitorSketch, YearSalt
from services.oversight.schemas import AccessEventIn
from services.oversight.service.visits import PLATFORM, ingest, page_of, unique_visitors
from services.oversight.settings import OversightSettings
from services.oversight.vocab import PageKind

VISITS = 200_000  # bench/oversight.py runs the million
VISITORS = 100_000
BATCH = 5000


def _address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" if n % 3 else f"2001:db8:{n:x}::1"


async def _db(tmp_path: Path) -> Database:
    await migrate.migrate(["oversight"], data_dir=tmp_path)
    settings = OversightSettings(data_dir=tmp_path)
    return Database(settings.service_database_url("oversight"), settings.database_schema("oversight"))


def test_pages_are_recognised_behind_a_prefix_or_a_host() -> None:
    assert page_of("/sites/jtj/api/content/v1/items/42") == (PageKind.ITEM, "42")
    assert page_of("/api/content/v1/columns/7/items?page=2") == (PageKind.COLUMN, "7")
    assert page_of("/api/content/v1/site") == (PageKind.SITE, "")
    assert page_of("/api/search/v1/search?q=x") == (PageKind.SEARCH, "")
    assert page_of("/api/identity/v1/token") is None


async def test_many_visits_give_the_yearly_uniques_within_two_percent(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    rng = random.Random(20261202)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # In time order, as the gateway hands them over: each batch is a moment of the year.
    moments = sorted(rng.randrange(364 * 86400) for _ in range(VISITS))
    seen: set[int] = set()
    try:
        for offset in range(0, VISITS, BATCH):
            events = []
            for i in range(offset, offset + BATCH):
                visitor = rng.randrange(VISITORS)
                seen.add(visitor)
                events.append(
                    # Validated already (the API does it); constructing skips a million validations.
                    AccessEventIn.model_construct(
                        ts=start + timedelta(seconds=moments[i]),
                        client=_address(visitor),
                        method="GET",
                        path=f"/api/content/v1/items/{i % 500 + 1}",
                        status=200,
                        site="sfs" if visitor % 4 else "jtj",
                    )
                )
            async with db.session() as session:
                await ingest(session, events, lg_k=14)
        async with db.session() as session:
            estimate = await unique_visitors(session, PLATFORM, "2026")
            views = sum(r.views for r in (await session.execute(select(DailyViews))).scalars())
            sketches = [r.sketch for r in (await session.execute(select(VisitorSketch))).scalars()]
            salt = (await session.get(YearSalt, 2026)).salt  # type: ignore[union-attr]
        truth = len(seen)
        assert abs(estimate - truth) / truth < 0.02, (estimate, truth)
        assert views == VISITS
        # Nothing stored could identify a visitor: no address in any text, no hash in any sketch.
        sample = rng.sample(sorted(seen), 200)
        hashes = [hashlib.blake2b(_address(v).encode(), key=salt, digest_size=8).digest() for v in sample]
        assert not any(h in blob for h in hashes for blob in sketches)
        raw = (tmp_path / "oversight.db").read_bytes() if (tmp_path / "oversight.db").exists() else b""
        assert raw, "expected the embedded database file"
        assert not any(_address(v).encode() in raw for v in sample)
        print(f"unique visitors: estimate {estimate} for {truth} true ({(estimate - truth) / truth:+.2%})")
    finally:
        await db.dispose()
