"""The base of every change-feed consumer.

A consumer keeps its cursor in its own database and advances it in the same transaction as
the effects of each event, so a crash anywhere replays at most the event in flight; handlers
are written to be idempotent so that replay changes nothing. Replicas share the work through a
lease row: one holder at a time, and another takes over when the holder stops renewing.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import Database
from services.kernel.feed import FeedEvent, FeedTables, utcnow

log = logging.getLogger("jiyue.feed")

# (after, limit) -> (events, head)
FetchFn = Callable[[int, int], Awaitable[tuple[list[FeedEvent], int]]]


class LeaseLost(Exception):
    """Another replica holds the lease; this one must stop processing."""


class FeedConsumer(abc.ABC):
    """Subclass and implement `handle`; `name` identifies the cursor in the database."""

    name: str = "consumer"
    batch_size: int = 100
    max_backoff: float = 30.0

    def __init__(
        self,
        db: Database,
        tables: FeedTables,
        fetch: FetchFn,
        *,
        poll_seconds: float = 0.5,
        lease_seconds: float = 15.0,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.tables = tables
        self.fetch = fetch
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.failures = 0
        self.last_error: str | None = None
        self._wake = asyncio.Event()

    @abc.abstractmethod
    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        """Apply one event; must be idempotent (it may be seen again after a crash)."""

    async def after_batch(self, events: list[FeedEvent]) -> None:
        """Hook for consumers that flush external effects (e.g. a search index commit)."""

    def wake(self) -> None:
        """Ask for an immediate poll (in-process producers call this after a write)."""
        self._wake.set()

    # -- cursor and lease -------------------------------------------------------------

    async def _ensure_row(self, session: AsyncSession) -> None:
        cur = self.tables.cursor
        dialect = session.get_bind().dialect.name
        ins = pg_insert(cur) if dialect == "postgresql" else sqlite_insert(cur)
        await session.execute(
            ins.values(name=self.name, position=0, processed=0, source_head=0).on_conflict_do_nothing(
                index_elements=["name"]
            )
        )

    async def acquire_lease(self) -> bool:
        cur = self.tables.cursor
        now = time.time()
        async with self.db.session() as session:
            await self._ensure_row(session)
            result = await session.execute(
                update(cur)
                .where(cur.c.name == self.name)
                .where(
                    (cur.c.lease_owner.is_(None))
                    | (cur.c.lease_owner == self.owner)
                    | (cur.c.lease_until < now)
                )
                .values(lease_owner=self.owner, lease_until=now + self.lease_seconds)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_lease(self) -> None:
        cur = self.tables.cursor
        async with self.db.session() as session:
            await session.execute(
                update(cur)
                .where(cur.c.name == self.name, cur.c.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def position(self) -> int:
        cur = self.tables.cursor
        async with self.db.session() as session:
            value = (
                await session.execute(select(cur.c.position).where(cur.c.name == self.name))
            ).scalar_one_or_none()
        return int(value or 0)

    async def status(self) -> dict[str, Any]:
        cur = self.tables.cursor
        async with self.db.session() as session:
            row = (await session.execute(select(cur).where(cur.c.name == self.name))).mappings().one_or_none()
        if row is None:
            return {"name": self.name, "position": 0, "head": 0, "lag": 0, "holder": None}
        return {
            "name": self.name,
            "position": row["position"],
            "head": row["source_head"],
            "lag": max(0, row["source_head"] - row["position"]),
            "holder": row["lease_owner"],
            "processed": row["processed"],
            "last_error": self.last_error,
        }

    async def _advance(self, session: AsyncSession, event: FeedEvent, head: int) -> None:
        cur = self.tables.cursor
        result = await session.execute(
            update(cur)
            .where(cur.c.name == self.name, cur.c.lease_owner == self.owner)
            .values(
                position=event.cursor,
                processed=cur.c.processed + 1,
                source_head=max(head, event.cursor),
                updated_at=utcnow(),
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise LeaseLost(self.name)

    async def _record_head(self, head: int) -> None:
        cur = self.tables.cursor
        async with self.db.session() as session:
            await session.execute(update(cur).where(cur.c.name == self.name).values(source_head=head))

    # -- processing -------------------------------------------------------------------

    async def run_once(self) -> int:
        """Process one batch. Returns how many events were applied (0 when idle)."""
        if not await self.acquire_lease():
            return 0
        after = await self.position()
        events, head = await self.fetch(after, self.batch_size)
        if not events:
            await self._record_head(head)
            return 0
        done: list[FeedEvent] = []
        try:
            for event in events:
                # One transaction per event: its effects and the cursor move together.
                async with self.db.session() as session:
                    await self.handle(event, session)
                    await self._advance(session, event, head)
                done.append(event)
        finally:
            if done:
                await self.after_batch(done)
        return len(done)

    async def run_forever(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            # Cleared before the pass, not after: a wake-up that arrives while a pass runs must
            # start the next pass at once instead of being wiped and waiting a full poll.
            self._wake.clear()
            try:
                count = await self.run_once()
                self.failures = 0
                self.last_error = None
                backoff = 0.5
                if count:
                    continue
                delay = self.poll_seconds
            except LeaseLost:
                delay = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # retried with backoff; the cursor has not moved
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("feed consumer %s failed (%s); retry in %.1fs", self.name, exc, backoff)
                delay = backoff
                backoff = min(backoff * 2, self.max_backoff)
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
        try:
            await self.release_lease()
        except Exception:  # shutting down; the lease will simply expire
            log.debug("could not release lease of %s", self.name)
