"""Change feeds: an outbox written in the caller's transaction, what each consumer has read, and
the retention that prunes what every consumer has passed.

Why an advisory lock on PostgreSQL: sequence values are handed out before commit, so two
concurrent writers can commit ids 8 and 7 in that order; a reader at cursor 8 would then skip
7 forever. Serialising outbox writers per service makes id order equal commit order. SQLite
has one writer at a time, which gives the same guarantee for free.

Retention: a consumer names itself when it reads (`consumer=`), and the producer records the
cursor it asked from as acknowledged. An event older than the retention window is pruned once
every consumer seen within the window has passed it; a consumer silent for longer than the
window no longer holds the feed back and, when it returns, is told its cursor expired (410) and
rebuilds from a snapshot. The newest event is never pruned, so SQLite never reuses an id.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.kernel import clock
from services.kernel.errors import FeedCursorExpired

_BIGINT_ID = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return clock.now()


@dataclass(frozen=True)
class FeedTables:
    outbox: Table
    cursor: Table
    # Producer side: each consumer's acknowledged position, and how far the outbox was pruned.
    acks: Table
    watermark: Table
    # Consumer side: events whose handling kept failing, set aside for an operator.
    dead_letters: Table


def define_feed_tables(metadata: MetaData) -> FeedTables:
    """Add the feed tables (outbox, cursors, acknowledgements, dead letters) to a service."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", _BIGINT_ID, primary_key=True, autoincrement=True),
        Column("topic", String(64), nullable=False, index=True),
        Column("key", String(128), nullable=False),
        Column("site_id", String(64), nullable=True),
        Column("payload", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    cursor = Table(
        "feed_cursor",
        metadata,
        Column("name", String(64), primary_key=True),
        Column("position", BigInteger, nullable=False, server_default="0"),
        Column("lease_owner", String(128), nullable=True),
        Column("lease_until", Float, nullable=True),
        Column("processed", BigInteger, nullable=False, server_default="0"),
        Column("source_head", BigInteger, nullable=False, server_default="0"),
        Column("updated_at", DateTime(timezone=True), nullable=True),
    )
    acks = Table(
        "feed_ack",
        metadata,
        Column("consumer", String(64), primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("seen_at", DateTime(timezone=True), nullable=False),
    )
    watermark = Table(
        "feed_watermark",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        # Every event with an id at or below this has been pruned.
        Column("pruned_through", BigInteger, nullable=False),
        Column("pruned_at", DateTime(timezone=True), nullable=False),
    )
    dead_letters = Table(
        "feed_dead_letter",
        metadata,
        Column("id", _BIGINT_ID, primary_key=True, autoincrement=True),
        Column("consumer", String(64), nullable=False, index=True),
        Column("event_cursor", BigInteger, nullable=False),
        Column("topic", String(64), nullable=False),
        Column("key", String(128), nullable=False),
        Column("site_id", String(64), nullable=True),
        Column("payload", JSON, nullable=False),
        Column("event_created_at", String(64), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text, nullable=False),
        Column("dead_at", DateTime(timezone=True), nullable=False),
    )
    return FeedTables(outbox=outbox, cursor=cursor, acks=acks, watermark=watermark, dead_letters=dead_letters)


@dataclass(frozen=True)
class FeedEvent:
    cursor: int
    topic: str
    key: str
    site_id: str | None
    payload: dict[str, Any]
    created_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeedEvent:
        return cls(
            cursor=int(data["cursor"]),
            topic=data["topic"],
            key=str(data["key"]),
            site_id=data.get("site_id"),
            payload=data.get("payload") or {},
            created_at=data.get("created_at", ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "topic": self.topic,
            "key": self.key,
            "site_id": self.site_id,
            "payload": self.payload,
            "created_at": self.created_at,
        }


# In-process consumers of a feed, by the producer's engine: rung after a commit that emitted, so
# a consumer in the same process reads at once instead of at its next poll. Weak keys: an
# engine that is gone (a stopped test platform) takes its listeners with it.
_BELLS: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = weakref.WeakKeyDictionary()
_RING = "jiyue_feed_ring"


def on_emit(engine: Engine, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after every commit on `engine` that emitted an event; returns the undo."""
    listeners = _BELLS.setdefault(engine, [])
    listeners.append(callback)

    def off() -> None:
        if callback in listeners:
            listeners.remove(callback)

    return off


@event.listens_for(Session, "after_commit")
def _ring(sync_session: Session) -> None:
    if sync_session.info.pop(_RING, False):
        bind = sync_session.get_bind()
        for callback in list(_BELLS.get(bind, ())) if isinstance(bind, Engine) else ():
            callback()


@event.listens_for(Session, "after_rollback")
def _silence(sync_session: Session) -> None:
    sync_session.info.pop(_RING, None)


async def emit(
    session: AsyncSession,
    tables: FeedTables,
    topic: str,
    key: str | int,
    payload: dict[str, Any],
    site_id: str | None = None,
) -> None:
    """Record a change in the same transaction as the change itself."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # One lock per schema (= per service), held until this transaction ends.
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox'))"))
    await session.execute(
        insert(tables.outbox).values(
            topic=topic, key=str(key), site_id=site_id, payload=payload, created_at=utcnow()
        )
    )
    session.sync_session.info[_RING] = True


async def _head(session: AsyncSession, tables: FeedTables) -> int:
    ob = tables.outbox
    return int((await session.execute(select(func.coalesce(func.max(ob.c.id), 0)))).scalar_one())


async def pruned_through(session: AsyncSession, tables: FeedTables) -> int:
    wm = tables.watermark
    value = (await session.execute(select(wm.c.pruned_through).where(wm.c.id == 1))).scalar_one_or_none()
    return int(value or 0)


async def acknowledge(session: AsyncSession, tables: FeedTables, consumer: str, position: int) -> None:
    """Record that `consumer` has applied everything up to `position` (it asks from there)."""
    acks = tables.acks
    now = utcnow()
    row = (
        await session.execute(select(acks.c.position, acks.c.seen_at).where(acks.c.consumer == consumer))
    ).one_or_none()
    if row is None:
        # Two replicas of one consumer may register at once: the second insert is a no-op.
        ins = pg_insert(acks) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(acks)
        await session.execute(
            ins.values(consumer=consumer, position=position, seen_at=now).on_conflict_do_nothing(
                index_elements=["consumer"]
            )
        )
        return
    # Idle polls repeat the same cursor: write only when it moved or the last sighting is old,
    # so a quiet feed costs no writes.
    if row.position != position or clock.aware(row.seen_at) < now - timedelta(minutes=1):
        await session.execute(
            update(acks).where(acks.c.consumer == consumer).values(position=position, seen_at=now)
        )


async def read_changes(
    session: AsyncSession,
    tables: FeedTables,
    after: int,
    limit: int,
    topics: list[str] | None,
    consumer: str | None = None,
) -> tuple[list[FeedEvent], int]:
    """Events after a cursor, oldest first, and the feed's head (its newest cursor).

    Raises `FeedCursorExpired` when events after `after` have been pruned."""
    head = await _head(session, tables)
    oldest = await pruned_through(session, tables)
    if after < oldest:
        raise FeedCursorExpired(
            f"游标 {after} 之后的部分事件已超过保留期被清理；请从快照重建，再从游标 {oldest} 之后继续",
            extra={"oldest_cursor": oldest, "head": head},
        )
    if consumer:
        await acknowledge(session, tables, consumer, after)
    ob = tables.outbox
    stmt = select(ob).where(ob.c.id > after).order_by(ob.c.id).limit(limit)
    if topics:
        stmt = stmt.where(ob.c.topic.in_(topics))
    rows = (await session.execute(stmt)).mappings().all()
    events = [
        FeedEvent(
            cursor=row["id"],
            topic=row["topic"],
            key=row["key"],
            site_id=row["site_id"],
            payload=row["payload"],
            created_at=clock.to_wire(row["created_at"]) if row["created_at"] else "",
        )
        for row in rows
    ]
    return events, head


async def prune(session: AsyncSession, tables: FeedTables, retention: timedelta) -> int:
    """Delete events older than `retention` that every live consumer has passed; returns how many."""
    ob, acks = tables.outbox, tables.acks
    now = utcnow()
    cutoff = now - retention
    head = await _head(session, tables)
    held = (
        await session.execute(select(func.min(acks.c.position)).where(acks.c.seen_at >= cutoff))
    ).scalar_one_or_none()
    bound_stmt = select(func.max(ob.c.id)).where(ob.c.created_at < cutoff, ob.c.id < head)
    if held is not None:
        bound_stmt = bound_stmt.where(ob.c.id <= held)
    bound = (await session.execute(bound_stmt)).scalar_one_or_none()
    if bound is None:
        return 0
    result = await session.execute(delete(ob).where(ob.c.id <= bound))
    wm = tables.watermark
    if (await session.execute(select(wm.c.id).where(wm.c.id == 1))).scalar_one_or_none() is None:
        await session.execute(insert(wm).values(id=1, pruned_through=bound, pruned_at=now))
    else:
        await session.execute(
            update(wm)
            .where(wm.c.id == 1, wm.c.pruned_through < bound)
            .values(pruned_through=bound, pruned_at=now)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
