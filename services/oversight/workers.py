"""Oversight follows content's feed: which sites and columns exist, and what is live since when."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.consumer import FeedConsumer
from services.kernel.db import Database
from services.kernel.feed import FeedEvent, FeedTables
from services.oversight.models import LiveItem, WatchedColumn, WatchedSite
from services.oversight.service.freshness import categorise
from services.oversight.service.scorecards import evaluate, raise_alerts

log = logging.getLogger("jiyue.oversight")

# Publication states after which an item no longer counts as the column's content.
_GONE = {"publication.withdrawn", "publication.deleted"}
_LIVE = {"publication.published", "publication.archived", "publication.moved", "publication.updated"}


def _instant(value: object, fallback: str) -> datetime:
    """An instant from the feed, in UTC: SQLite keeps only the wall time, so +08:00 must not reach it."""
    for candidate in (value, fallback):
        if isinstance(candidate, str) and candidate:
            try:
                return clock.aware(datetime.fromisoformat(candidate)).astimezone(UTC)
            except ValueError:
                continue
    return clock.now()


class ContentFollower(FeedConsumer):
    name = "oversight-content"

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        topic, payload = event.topic, event.payload
        if topic.startswith("site."):
            await self._site(session, payload, event)
        elif topic.startswith("column."):
            await self._column(session, topic, payload, event)
        elif topic in _GONE:
            item = await session.get(LiveItem, int(event.key))
            if item is not None:
                await session.delete(item)
        elif topic in _LIVE and payload.get("status") in ("published", "archived"):
            await self._item(session, payload, event)

    async def _site(self, session: AsyncSession, payload: dict[str, object], event: FeedEvent) -> None:
        site = await session.get(WatchedSite, event.key) or WatchedSite(
            code=event.key, name="", status="", updated_at=clock.now()
        )
        site.name = str(payload.get("name") or site.name or event.key)
        site.status = str(payload.get("status") or site.status or "applying")
        site.updated_at = clock.now()
        session.add(site)

    async def _column(
        self, session: AsyncSession, topic: str, payload: dict[str, object], event: FeedEvent
    ) -> None:
        column_id = int(event.key)
        column = await session.get(WatchedColumn, column_id)
        name = str(payload.get("name") or (column.name if column else ""))
        if column is None:
            column = WatchedColumn(
                column_id=column_id,
                site=str(payload.get("site") or event.site_id or ""),
                name=name,
                kind="list",
                category=categorise(name).value,
                created_at=_instant(payload.get("created_at"), event.created_at),
            )
        column.name = name
        column.kind = str(payload.get("kind") or column.kind)
        column.category = categorise(name).value
        interval = payload.get("update_interval_days")
        column.update_interval_days = int(interval) if isinstance(interval, int) else None
        editor = payload.get("responsible_editor")
        column.responsible_editor = str(editor) if editor else None
        column.deleted = topic == "column.deleted"
        session.add(column)

    async def _item(self, session: AsyncSession, payload: dict[str, object], event: FeedEvent) -> None:
        pid = int(event.key)
        item = await session.get(LiveItem, pid)
        column_id = payload.get("column_id")
        if item is None:
            item = LiveItem(
                publication_id=pid,
                site=str(payload.get("site") or event.site_id or ""),
                column_id=int(column_id) if isinstance(column_id, int) else 0,
                title=str(payload.get("title") or "")[:500],
                # When it went live on the site: that is the update the inspection counts.
                published_at=_instant(payload.get("published_at"), event.created_at),
            )
        elif isinstance(column_id, int):
            item.column_id = column_id
        session.add(item)


async def evaluate_all(db: Database, feed: FeedTables) -> int:
    """Evaluate every online site and raise or resolve alerts; returns how many were raised."""
    raised = 0
    async with db.session() as session:
        codes = (
            (await session.execute(select(col(WatchedSite.code)).where(col(WatchedSite.status) == "online")))
            .scalars()
            .all()
        )
    for code in codes:
        async with db.session() as session:
            _, findings = await evaluate(session, code)
            raised += len(await raise_alerts(session, feed, code, findings))
    return raised


def evaluator(db: Database, feed: FeedTables, every_seconds: float):  # type: ignore[no-untyped-def]
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await evaluate_all(db, feed)
            except Exception:  # logged and retried at the next round; a bad site must not stop the rest
                log.exception("oversight evaluation failed")
            try:
                await asyncio.wait_for(stop.wait(), every_seconds)
            except TimeoutError:
                pass

    return run
