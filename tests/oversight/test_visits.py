"""Unique visitors from salted hashes in HyperLogLog sketches: accurate, and nothing personal kept."""

from __future__ import annotations

import hashlib
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from gateway import migrate
from services.kernel.db import Database
from services.oversight.models import DailyViews, VisitorSketch, YearSalt, metadata
from services.oversight.schemas import AccessEventIn
from services.oversight.service.visits import PLATFORM, ingest, page_of, unique_visitors
from services.oversight.settings import OversightSettings
from services.oversight.vocab import PageKind

VISITS = 200_000  # bench/oversight.py runs the million
VISITORS = 100_000
BATCH = 5000


# Every synthetic address is 10.x.x.x or 2001:db8:…; a hash may also hide as a decimal number.
ADDRESS = re.compile(r"10\.\d{1,3}\.\d{1,3}\.\d{1,3}|2001:db8:")
DIGITS = re.compile(r"-?\d{15,}")


def _database_files(folder: Path) -> list[Path]:
    return [f for f in folder.iterdir() if f.name.startswith("oversight.db")]


def _holds_nobody(
    table: str, value: object, addresses: set[str], hashes: set[bytes], numbers: set[int]
) -> None:
    if isinstance(value, str):
        assert value not in addresses and not ADDRESS.search(value), (table, value)
        assert not any(int(d) in numbers for d in DIGITS.findall(value)), table  # a hash as a number
    elif isinstance(value, bytes | bytearray | memoryview):
        blob = bytes(value)
        assert not any(blob[i : i + 8] in hashes for i in range(len(blob) - 7)), table
    elif isinstance(value, int):
        assert value not in numbers, table


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
        assert sketches
        # Nothing stored could identify a visitor, at any age: every value of every table of
        # oversight is looked at for every visitor's address and every visitor's hash.
        addresses = {_address(v) for v in seen}
        hashes = {hashlib.blake2b(a.encode(), key=salt, digest_size=8).digest() for a in addresses}
        numbers = {int.from_bytes(h, "little", signed=True) for h in hashes}
        async with db.session() as session:
            for table in metadata.sorted_tables:
                for row in (await session.execute(select(table))).all():
                    for value in row:
                        _holds_nobody(table.name, value, addresses, hashes, numbers)
        # …and the database file itself (freed pages and the journal included), for any address.
        files = _database_files(tmp_path)
        assert files, "expected the embedded database file"
        for f in files:
            text = f.read_bytes().decode("latin-1")
            assert not ADDRESS.search(text), (f.name, ADDRESS.search(text))
        print(f"unique visitors: estimate {estimate} for {truth} true ({(estimate - truth) / truth:+.2%})")
    finally:
        await db.dispose()
