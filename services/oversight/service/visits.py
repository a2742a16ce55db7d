"""Visit statistics from the gateway's access events: counters and unique-visitor sketches.

Each batch is aggregated in memory first, so a million events cost a few hundred small
upserts, not a million. A visitor is the keyed hash (BLAKE2b with the year's salt) of the
client address; the hash only ever lives in memory on its way into the sketch.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import datasketches as ds
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.oversight.models import DailyViews, VisitorSketch, YearSalt
from services.oversight.schemas import AccessEventIn
from services.oversight.vocab import PROBE_QUERY, PageKind

PLATFORM = ""  # the site key of platform-wide figures

_PREFIX = re.compile(r"^/sites/[^/]+")
_PAGES: tuple[tuple[re.Pattern[str], PageKind], ...] = (
    (re.compile(r"^/api/content/v1/items/(\d+)$"), PageKind.ITEM),
    (re.compile(r"^/api/content/v1/columns/(\d+)/items$"), PageKind.COLUMN),
    (re.compile(r"^/api/content/v1/(site)$"), PageKind.SITE),
    (re.compile(r"^/api/search/v1/(search)$"), PageKind.SEARCH),
)


def page_of(path: str) -> tuple[PageKind, str] | None:
    """Which page of a site a delivered path is; None for anything that is not a page view."""
    bare, _, query = path.partition("?")
    if PROBE_QUERY in query.split("&"):
        return None  # the platform's own availability probe is not a visit
    bare = _PREFIX.sub("", bare)
    for pattern, kind in _PAGES:
        match = pattern.match(bare)
        if match:
            return kind, match.group(1) if kind in (PageKind.ITEM, PageKind.COLUMN) else ""
    return None


@dataclass
class _Batch:
    views: Counter[tuple[str, date, str, str]] = field(default_factory=Counter)
    # (site, period) -> hashes of the visitors seen in this batch
    visitors: dict[tuple[str, str], set[int]] = field(default_factory=dict)


def _counts(event: AccessEventIn) -> bool:
    return event.method in ("GET", "HEAD") and (200 <= event.status < 300 or event.status == 304)


async def _salt(session: AsyncSession, year: int, cache: dict[int, bytes]) -> bytes:
    if year not in cache:
        row = await session.get(YearSalt, year)
        if row is None:
            row = YearSalt(year=year, salt=secrets.token_bytes(32))
            session.add(row)
            await session.flush()
        cache[year] = row.salt
    return cache[year]


async def ingest(session: AsyncSession, events: list[AccessEventIn], lg_k: int) -> int:
    """Fold a batch of access events into the statistics; returns how many were page views."""
    batch = _Batch()
    salts: dict[int, bytes] = {}
    counted = 0
    for event in events:
        if not event.site or not _counts(event):
            continue
        page = page_of(event.path)
        if page is None:
            continue
        counted += 1
        local = clock.aware(event.ts).astimezone(clock.SHANGHAI)
        day, year = local.date(), local.year
        kind, ref = page
        batch.views[(event.site, day, kind.value, ref)] += 1
        salt = await _salt(session, year, salts)
        digest = hashlib.blake2b(event.client.encode(), key=salt, digest_size=8).digest()
        visitor = int.from_bytes(digest, "little", signed=True)  # the sketch hashes 64-bit integers
        for site in (event.site, PLATFORM):
            for period in (str(year), day.isoformat()):
                batch.visitors.setdefault((site, period), set()).add(visitor)
    await _add_views(session, batch)
    await _add_visitors(session, batch, lg_k)
    return counted


async def _add_views(session: AsyncSession, batch: _Batch) -> None:
    """One upsert statement for the whole batch: counters add up, replays of a batch are the caller's concern."""
    if not batch.views:
        return
    table = DailyViews.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["site", "day", "kind", "ref"], set_={"views": table.c.views + stmt.excluded.views}
    )
    rows = [
        {"site": site, "day": day, "kind": kind, "ref": ref, "views": views}
        for (site, day, kind, ref), views in batch.views.items()
    ]
    await session.execute(stmt, rows)


async def _add_visitors(session: AsyncSession, batch: _Batch, lg_k: int) -> None:
    now = clock.now()
    for (site, period), hashes in batch.visitors.items():
        row = await session.get(VisitorSketch, (site, period))
        # Daily figures need less precision than the annual report's: 2**10 registers (±3 %).
        precision = lg_k if len(period) == 4 else min(lg_k, 10)
        sketch = (
            ds.hll_sketch.deserialize(row.sketch) if row else ds.hll_sketch(precision, ds.tgt_hll_type.HLL_8)
        )
        for visitor in hashes:
            sketch.update(visitor)
        data = bytes(sketch.serialize_compact())
        if row is None:
            session.add(VisitorSketch(site=site, period=period, sketch=data, updated_at=now))
        else:
            row.sketch, row.updated_at = data, now
    await session.flush()


async def unique_visitors(session: AsyncSession, site: str, period: str) -> int:
    row = await session.get(VisitorSketch, (site, period))
    if row is None:
        return 0
    return round(ds.hll_sketch.deserialize(row.sketch).get_estimate())


async def views_between(session: AsyncSession, site: str, start: date, end: date) -> list[DailyViews]:
    stmt = select(DailyViews).where(col(DailyViews.day) >= start, col(DailyViews.day) <= end)
    if site != PLATFORM:
        stmt = stmt.where(col(DailyViews.site) == site)
    return list((await session.execute(stmt)).scalars().all())
