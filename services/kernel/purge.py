"""Periodic purges: "delete expired rows every N seconds" as a worker a service registers.

    ctx.workers.append(periodic(ctx.db, "identity-codes", 300, purge_codes))

`job(session)` runs in its own transaction and returns how many rows it removed (counted in
`jiyue_purged_rows_total{job=...}`). A failing pass is logged and tried again next period; the
first pass runs one period after start, so a restart loop does not hammer the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import metrics
from services.kernel.context import Worker
from services.kernel.db import Database

log = logging.getLogger("jiyue.purge")

PurgeJob = Callable[[AsyncSession], Awaitable[int]]


async def purge_once(db: Database, name: str, job: PurgeJob) -> int:
    async with db.session() as session:
        removed = await job(session)
    if removed:
        metrics.PURGED.labels(job=name).inc(removed)
        log.info("purge %s removed %d rows", name, removed)
    return removed


def periodic(db: Database, name: str, every_seconds: float, job: PurgeJob) -> Worker:
    """A worker (for `ctx.workers`) that runs `job` every `every_seconds` until stopped."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_seconds)
            if stop.is_set():
                return
            try:
                await purge_once(db, name, job)
            except Exception:
                log.exception("purge %s failed; next try in %.0fs", name, every_seconds)

    return run
