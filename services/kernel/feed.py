"""Change feeds: an outbox written in the caller's transaction, and the cursor a consumer keeps.

Why an advisory lock on PostgreSQL: sequence values are handed out before commit, so two
concurrent writers can commit ids 8 and 7 in that order; a reader at cursor 8 would then skip
7 forever. Serialising outbox writers per service makes id order equal commit order. SQLite
has one writer at a time, which gives the same guarantee for free.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_BIGINT_ID = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FeedTables:
    outbox: Table
    cursor: Table


def define_feed_tables(metadata: MetaData) -> FeedTables:
    """Add the outbox and the consumer-cursor tables to a service's metadata."""
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
    return FeedTables(outbox=outbox, cursor=cursor)


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


async def read_changes(
    session: AsyncSession, tables: FeedTables, after: int, limit: int, topics: list[str] | None
) -> tuple[list[FeedEvent], int]:
    """Events after a cursor, oldest first, and the feed's head (its newest cursor)."""
    ob = tables.outbox
    stmt = select(ob).where(ob.c.id > after).order_by(ob.c.id).limit(limit)
    if topics:
        stmt = stmt.where(ob.c.topic.in_(topics))
    rows = (await session.execute(stmt)).mappings().all()
    head = (await session.execute(select(func.coalesce(func.max(ob.c.id), 0)))).scalar_one()
    events = [
        FeedEvent(
            cursor=row["id"],
            topic=row["topic"],
            key=row["key"],
            site_id=row["site_id"],
            payload=row["payload"],
            created_at=row["created_at"].isoformat() if row["created_at"] else "",
        )
        for row in rows
    ]
    return events, int(head)
