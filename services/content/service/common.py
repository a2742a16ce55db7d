"""What every content module shares: the service's state, after-commit effects, access rules.

Commit listeners hang on content's own session class (`ContentSyncSession`), which only content's
sessionmaker builds, so no other service's sessions run through them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.content.models import feed_tables
from services.content.service.cache import DeliveryCache
from services.content.vocab import Worker
from services.kernel import feed
from services.kernel.auth import Principal
from services.kernel.clock import now
from services.kernel.errors import NotFound
from services.kernel.outbound import IPNetwork, OutboundClient
from services.kernel.roles import SITE_STAFF_ROLES, Role

__all__ = ["ContentState", "ContentSyncSession", "after_commit", "emit", "ensure_member", "holds", "now"]

_STATE = "jiyue_content_state"
_AFTER_COMMIT = "jiyue_content_after_commit"
_DIRTY = "jiyue_content_dirty_sites"
_WAKE = "jiyue_content_wake"


@dataclass
class ContentState:
    """Per-app in-memory state: the delivery cache, worker wake-ups and the push client."""

    cache: DeliveryCache
    push_client: OutboundClient
    # Non-public ranges the operator lets tenant-aimed requests reach (JIYUE_OUTBOUND_ALLOW).
    outbound_allow: tuple[IPNetwork, ...] = ()
    events: dict[Worker, asyncio.Event] = field(default_factory=dict)

    def event(self, name: Worker) -> asyncio.Event:
        if name not in self.events:
            self.events[name] = asyncio.Event()
        return self.events[name]

    def wake(self, name: Worker) -> None:
        self.event(name).set()


class ContentSyncSession(Session):
    """The sync session behind content's AsyncSessions; carries the app's state in `info`."""


def session_options(state: ContentState) -> dict[str, Any]:
    """What content's sessionmaker is configured with (see `app.create_app`)."""
    return {"sync_session_class": ContentSyncSession, "info": {_STATE: state}}


def touch(session: AsyncSession, *sites: str | None) -> None:
    """Mark sites whose delivery answers this transaction changes."""
    session.sync_session.info.setdefault(_DIRTY, set()).update(s for s in sites if s)


def wake(session: AsyncSession, worker: Worker) -> None:
    """Wake an in-process worker as soon as this transaction commits."""
    session.sync_session.info.setdefault(_WAKE, set()).add(worker)


def after_commit(session: AsyncSession, callback: Callable[[], Any]) -> None:
    """Run `callback` once this session's transaction has committed (never on rollback).

    Cache invalidation and worker wake-ups must not happen before the data is durable, or a
    reader could re-cache the old state or a worker could look before the row exists.
    """
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(ContentSyncSession, "after_commit")
def _run_after_commit(sync_session: Session) -> None:
    dirty = sync_session.info.pop(_DIRTY, None)
    wakes = sync_session.info.pop(_WAKE, None)
    callbacks = sync_session.info.pop(_AFTER_COMMIT, None)
    state = sync_session.info.get(_STATE)
    if isinstance(state, ContentState):
        if dirty:
            state.cache.invalidate(*dirty)
        for name in wakes or ():
            state.wake(name)
    for callback in callbacks or ():
        callback()


@event.listens_for(ContentSyncSession, "after_rollback")
def _drop_after_commit(sync_session: Session) -> None:
    for key in (_AFTER_COMMIT, _DIRTY, _WAKE):
        sync_session.info.pop(key, None)


async def emit(
    session: AsyncSession, topic: str, key: str | int, payload: dict[str, Any], site: str | None
) -> None:
    await feed.emit(session, feed_tables, topic, key, payload, site)


def holds(principal: Principal, site: str, *roles: Role) -> bool:
    """Internal callers and platform administrators act on every site."""
    return principal.is_internal or principal.has_any_role((Role.PLATFORM_ADMIN, *roles), site)


def ensure_member(principal: Principal, site: str) -> None:
    """A caller with no role on a site must not learn that its objects exist: 404, not 403."""
    if not holds(principal, site, *SITE_STAFF_ROLES):
        raise NotFound(f"站点 {site} 中不存在该对象")
