"""Helpers every content module shares: feed emission, after-commit effects, access rules."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.content.models import feed_tables
from services.content.service.cache import DeliveryCache
from services.kernel import feed
from services.kernel.auth import Principal
from services.kernel.errors import NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
_AFTER_COMMIT = "jiyue_content_after_commit"
_DIRTY = "jiyue_content_dirty_sites"
_WAKE = "jiyue_content_wake"


class Hub:
    """Per-app in-memory state that commits act on: the delivery cache and worker wake-ups."""

    def __init__(self, cache_entries: int = 20_000) -> None:
        self.cache = DeliveryCache(cache_entries)
        self.events: dict[str, asyncio.Event] = {}

    def event(self, name: str) -> asyncio.Event:
        if name not in self.events:
            self.events[name] = asyncio.Event()
        return self.events[name]

    def wake(self, name: str) -> None:
        self.event(name).set()


# Keyed by the database engine, so two apps in one process (tests, all-in-one) never share.
_HUBS: weakref.WeakKeyDictionary[Engine, Hub] = weakref.WeakKeyDictionary()


def register_hub(engine: Engine, hub: Hub) -> None:
    _HUBS[engine] = hub


def touch(session: AsyncSession, *sites: str | None) -> None:
    """Mark sites whose delivery answers this transaction changes."""
    session.sync_session.info.setdefault(_DIRTY, set()).update(s for s in sites if s)


def wake(session: AsyncSession, worker: str) -> None:
    """Wake an in-process worker as soon as this transaction commits."""
    session.sync_session.info.setdefault(_WAKE, set()).add(worker)


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.astimezone(SHANGHAI).isoformat() if value else None


def after_commit(session: AsyncSession, callback: Callable[[], Any]) -> None:
    """Run `callback` once this session's transaction has committed (never on rollback).

    Cache invalidation and worker wake-ups must not happen before the data is durable, or a
    reader could re-cache the old state or a worker could look before the row exists.
    """
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(sync_session: Session) -> None:
    dirty = sync_session.info.pop(_DIRTY, None)
    wakes = sync_session.info.pop(_WAKE, None)
    callbacks = sync_session.info.pop(_AFTER_COMMIT, None)
    if dirty or wakes:
        bind = sync_session.get_bind()
        hub = _HUBS.get(bind) if isinstance(bind, Engine) else None
        if hub is not None:
            if dirty:
                hub.cache.invalidate(*dirty)
            for name in wakes or ():
                hub.wake(name)
    for callback in callbacks or ():
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(sync_session: Session) -> None:
    for key in (_AFTER_COMMIT, _DIRTY, _WAKE):
        sync_session.info.pop(key, None)


async def emit(
    session: AsyncSession, topic: str, key: str | int, payload: dict[str, Any], site: str | None
) -> None:
    await feed.emit(session, feed_tables, topic, key, payload, site)


def actor_of(principal: Principal) -> str:
    return principal.sub


def holds(principal: Principal, site: str, *roles: str) -> bool:
    """Internal callers and platform administrators act on every site."""
    return principal.is_internal or principal.has_any_role(("platform_admin", *roles), site)


def ensure_member(principal: Principal, site: str) -> None:
    """A caller with no role on a site must not learn that its objects exist: 404, not 403."""
    if not holds(principal, site, "site_admin", "editor", "reviewer", "auditor"):
        raise NotFound(f"站点 {site} 中不存在该对象")
