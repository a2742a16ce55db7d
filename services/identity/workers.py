"""Background work of the identity service, started in-process by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.identity.service.bootstrap import purge_expired
from services.kernel.context import Worker
from services.kernel.db import Database

log = logging.getLogger("jiyue.identity.workers")


def purge_worker(db: Database, interval: float) -> Worker:
    """Delete spent codes, sessions, refresh tokens and address counters every `interval`
    seconds: a long-running instance must not grow these tables without end."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with db.session() as session:
                    await purge_expired(session)
            except Exception:  # a database hiccup must not end the worker; the next round retries
                log.exception("purging expired identity rows failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    return run
