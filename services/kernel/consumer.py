"""The base of every change-feed consumer.

A consumer keeps its cursor in its own database and advances it in the same transaction as
the effects of each event, so a crash anywhere replays at most the event in flight; handlers
are written to be idempotent so that replay changes nothing. Replicas share the work through a
lease row: one holder at a time, and another takes over when the holder stops renewing.

An event whose handling keeps failing is retried with exponential backoff and, after
`max_attempts`, set aside in the dead-letter table with the cursor moved past it, so the rest
of the feed flows; an operator retries it later. A consumer whose cursor fell behind the
producer's retention window rebuilds from a snapshot (`rebuild`) and reads on from the head the
producer reported, so nothing is lost.
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

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock, metrics
from services.kernel.db import Database
from services.kernel.errors import FeedCursorExpired, NotFound
from services.kernel.feed import FeedEvent, FeedTables, utcnow
from services.kernel.feed_remote import RemoteFeed
from services.kernel.settings import ServiceSettings

log = logging.getLogger("jiyue.feed")

# (after, limit) -> (events, head); raises FeedCursorExpired when the producer pruned past `after`
FetchFn = Callable[[int, int], Awaitable[tuple[list[FeedEvent], int]]]


class LeaseLost(Exception):
    """Another replica holds the lease; this one must stop processing."""


class FeedConsumer(abc.ABC):
    """Subclass and implement `handle` (and `rebuild`); `name` identifies the cursor."""

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
        rung_poll_seconds: float = 10.0,
        lease_seconds: float = 15.0,
        owner: str | None = None,
        max_attempts: int = 5,
        retry_base_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.tables = tables
        self.fetch: FetchFn = fetch.named(self.name) if isinstance(fetch, RemoteFeed) else fetch
        self.poll_seconds = poll_seconds
        # Idle poll once a producer in this process rings after each commit (`rung`): the ring
        # is the wake-up, the poll only a safety net for writers that cannot ring (another
        # process on the same database). Kept under the lease so an idle holder still renews.
        self.rung_poll_seconds = min(rung_poll_seconds, lease_seconds * 2 / 3)
        self.rung = False
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.failures = 0
        self.last_error: str | None = None
        # The event at the head of the line that failed: (cursor, attempts, not before epoch).
        self._failing: tuple[int, int, float] | None = None
        self._wake = asyncio.Event()
        self._head_seen: int | None = None

    def apply_settings(self, settings: ServiceSettings) -> None:
        self.max_attempts = settings.feed_max_attempts
        self.retry_base_seconds = settings.feed_retry_base_seconds
        self.rung_poll_seconds = min(settings.feed_rung_poll_seconds, self.lease_seconds * 2 / 3)

    @abc.abstractmethod
    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        """Apply one event; must be idempotent (it may be seen again after a crash)."""

    async def before_batch(self, events: list[FeedEvent]) -> None:
        """Hook for consumers that fetch what a batch refers to in one request."""

    async def after_batch(self, events: list[FeedEvent]) -> None:
        """Hook for consumers that flush external effects (e.g. a search index commit)."""

    async def rebuild(self, head: int) -> None:
        """Replace this consumer's state with a snapshot of the source, taken now.

        Called when the cursor fell behind the producer's retention; `head` is the source's
        newest cursor, read before the snapshot: the consumer reads on from there afterwards,
        so events newer than the snapshot are applied again (handlers are idempotent)."""
        raise RuntimeError(f"feed consumer {self.name} cannot rebuild from a snapshot")

    def wake(self) -> None:
        """Ask for an immediate poll (in-process producers call this after a write)."""
        self._wake.set()

    def ring_from(self, subscribe: Callable[[Callable[[], None]], Callable[[], None]]) -> Callable[[], None]:
        """Let the source's commits wake this consumer (`subscribe(callback)` returns the undo);
        from then on the idle poll is the long one until the undo runs."""
        off = subscribe(self.wake)
        self.rung = True

        def undo() -> None:
            self.rung = False
            off()

        return undo

    @property
    def idle_seconds(self) -> float:
        return self.rung_poll_seconds if self.rung else self.poll_seconds

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
            "dead_letters": await self.dead_letter_count(),
        }

    async def _advance(self, session: AsyncSession, cursor: int, head: int, processed: int = 1) -> None:
        cur = self.tables.cursor
        result = await session.execute(
            update(cur)
            .where(cur.c.name == self.name, cur.c.lease_owner == self.owner)
            .values(
                position=cursor,
                processed=cur.c.processed + processed,
                source_head=max(head, cursor),
                updated_at=utcnow(),
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise LeaseLost(self.name)

    async def _caught_up(self, after: int, head: int) -> None:
        """Nothing for this consumer up to the source's head: move the cursor there.

        The source reads its head before the events, and its commit order is its id order, so
        an empty answer means no event up to `head` is for us — a consumer of a few topics
        would otherwise stay at an old cursor, ask past the same unrelated events on every
        poll, show a lag that never falls, and hold back the source's pruning. Idle polls of a
        quiet feed write nothing."""
        if head <= after and self._head_seen == head:
            return
        async with self.db.session() as session:
            if head > after:
                await self._advance(session, head, head, processed=0)
            else:
                cur = self.tables.cursor
                await session.execute(update(cur).where(cur.c.name == self.name).values(source_head=head))
        self._head_seen = head

    # -- failures ---------------------------------------------------------------------

    def _waiting(self, events: list[FeedEvent]) -> bool:
        """The head of the line failed recently: wait out its backoff before trying again."""
        if self._failing is None:
            return False
        cursor, _, not_before = self._failing
        return events[0].cursor == cursor and clock.epoch() < not_before

    async def _failed(self, event: FeedEvent, head: int, exc: Exception) -> bool:
        """Count a failed attempt; True when the event went to the dead letters (cursor moved)."""
        attempts = 1
        if self._failing is not None and self._failing[0] == event.cursor:
            attempts = self._failing[1] + 1
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts < self.max_attempts:
            delay = min(self.retry_base_seconds * 2 ** (attempts - 1), self.max_backoff)
            self._failing = (event.cursor, attempts, clock.epoch() + delay)
            log.warning("%s: event %s failed (attempt %d): %s", self.name, event.cursor, attempts, error)
            return False
        async with self.db.session() as session:
            await session.execute(
                insert(self.tables.dead_letters).values(
                    consumer=self.name,
                    event_cursor=event.cursor,
                    topic=event.topic,
                    key=event.key,
                    site_id=event.site_id,
                    payload=event.payload,
                    event_created_at=event.created_at,
                    attempts=attempts,
                    last_error=error,
                    dead_at=utcnow(),
                )
            )
            await self._advance(session, event.cursor, head, processed=0)
        self._failing = None
        metrics.FEED_DEAD_LETTERED.labels(consumer=self.name).inc()
        await self.dead_letter_count()
        log.error("%s: event %s set aside after %d attempts: %s", self.name, event.cursor, attempts, error)
        return True

    async def retry_dead_letter(self, letter_id: int) -> bool:
        """Apply a dead letter again (an operator asked); True when it applied and was removed."""
        dl = self.tables.dead_letters
        async with self.db.session() as session:
            row = (
                (await session.execute(select(dl).where(dl.c.id == letter_id, dl.c.consumer == self.name)))
                .mappings()
                .one_or_none()
            )
        if row is None:
            raise NotFound(f"死信 {letter_id} 不存在")
        event = FeedEvent(
            cursor=row["event_cursor"],
            topic=row["topic"],
            key=row["key"],
            site_id=row["site_id"],
            payload=row["payload"],
            created_at=row["event_created_at"],
        )
        try:
            await self.before_batch([event])
            async with self.db.session() as session:
                await self.handle(event, session)
                await session.execute(delete(dl).where(dl.c.id == letter_id))
        except Exception as exc:
            async with self.db.session() as session:
                await session.execute(
                    update(dl)
                    .where(dl.c.id == letter_id)
                    .values(attempts=dl.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
                )
            return False
        await self.after_batch([event])
        await self.dead_letter_count()
        return True

    async def dead_letter_count(self) -> int:
        """How many events wait in this consumer's dead letters (also sets the gauge)."""
        dl = self.tables.dead_letters
        async with self.db.session() as session:
            count = int(
                (
                    await session.execute(
                        select(func.count()).select_from(dl).where(dl.c.consumer == self.name)
                    )
                ).scalar_one()
            )
        metrics.FEED_DEAD_LETTERS.labels(consumer=self.name).set(count)
        return count

    async def _recover(self, gone: FeedCursorExpired) -> None:
        extra = gone.extra or {}
        head = int(extra.get("head") or extra.get("oldest_cursor") or 0)
        log.warning("%s: cursor behind the source's retention; rebuilding from a snapshot", self.name)
        await self.rebuild(head)
        async with self.db.session() as session:
            await self._advance(session, head, head, processed=0)
        metrics.FEED_REBUILDS.labels(consumer=self.name).inc()

    # -- processing -------------------------------------------------------------------

    async def run_once(self) -> int:
        """Process one batch. Returns how many events were applied (0 when idle)."""
        if not await self.acquire_lease():
            return 0
        after = await self.position()
        try:
            events, head = await self.fetch(after, self.batch_size)
        except FeedCursorExpired as gone:
            await self._recover(gone)
            return 1
        if not events:
            await self._caught_up(after, head)
            return 0
        if self._waiting(events):
            return 0
        await self.before_batch(events)
        done: list[FeedEvent] = []
        try:
            for event in events:
                try:
                    # One transaction per event: its effects and the cursor move together.
                    async with self.db.session() as session:
                        await self.handle(event, session)
                        await self._advance(session, event.cursor, head)
                except LeaseLost:
                    raise
                except Exception as exc:
                    if not await self._failed(event, head, exc):
                        raise
                    continue
                if self._failing is not None and self._failing[0] == event.cursor:
                    self._failing = None
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
                delay = self.idle_seconds
            except LeaseLost:
                delay = self.idle_seconds
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
