"""Anonymised query statistics, written in batches off the request path.

Each search used to add its own row in the request's transaction, which made every query a
database write; on SQLite that capped uncached search at a few hundred per second. Rows now
wait in memory and a worker writes them once a second in one transaction. A crash loses at
most that second of statistics, never a search answer; the buffer is bounded so a stalled
database cannot grow it without limit.

The client hash is kept for a day at most (`forget_clients`): the statistics only count queries,
and a hash kept for good would be a pseudonym of the address that follows a person for years.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from datetime import datetime, timedelta

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.db import Database
from services.search.analysis import normalize
from services.search.models import QueryLog

log = logging.getLogger("jiyue.search.querylog")
QUERY_LOG: Table = QueryLog.__table__  # type: ignore[attr-defined]

CLIENT_HASH_KEPT = timedelta(days=1)


def client_hash(salt: str, address: str) -> str:
    return hashlib.sha256(f"{salt}|{address}".encode()).hexdigest()[:32]


class QueryLogBuffer:
    def __init__(self, db: Database, salt: str, *, max_rows: int = 50_000, interval: float = 1.0) -> None:
        self.db = db
        self.salt = salt
        self.interval = interval
        # Plain rows, written by one executemany: an ORM object per search cost more than the
        # search's own bookkeeping.
        self.pending: deque[dict[str, object]] = deque(maxlen=max_rows)

    def add(
        self, *, address: str, query: str, scope: str, site: str | None, total: int, took_ms: float
    ) -> None:
        self.pending.append(
            {
                "at": clock.now(),
                "client_hash": client_hash(self.salt, address),
                "query": normalize(query).strip()[:200],
                "scope": scope,
                "site": site,
                "total": total,
                "took_ms": round(took_ms, 2),
            }
        )

    async def flush(self) -> int:
        rows = []
        while self.pending:
            rows.append(self.pending.popleft())
        if rows:
            async with self.db.session() as session:
                await session.execute(insert(QUERY_LOG), rows)
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            try:
                await self.flush()
            except Exception as exc:  # statistics must never take search down
                log.warning("query log flush failed: %s", exc)


async def forget_clients(session: AsyncSession) -> int:
    """Blank the client hash of every query older than a day (a periodic purge job)."""
    result = await session.execute(
        update(QueryLog)
        .where(col(QueryLog.at) < clock.now() - CLIENT_HASH_KEPT, col(QueryLog.client_hash) != "")
        .values(client_hash="")
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def query_statistics(
    session: AsyncSession, site: str, start: datetime, end: datetime, limit: int
) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Searches of one site between two instants: how many, the most asked, those without results."""
    window = (col(QueryLog.site) == site, col(QueryLog.at) >= start, col(QueryLog.at) < end)
    total = (await session.execute(select(func.count()).where(*window))).scalar_one()
    count = func.count().label("n")
    top = select(col(QueryLog.query), count).where(*window).group_by(col(QueryLog.query))
    zero = top.where(col(QueryLog.total) == 0)
    order = (count.desc(), col(QueryLog.query))
    asked = [(q, int(n)) for q, n in (await session.execute(top.order_by(*order).limit(limit))).all()]
    empty = [(q, int(n)) for q, n in (await session.execute(zero.order_by(*order).limit(limit))).all()]
    return int(total), asked, empty
