"""Oversight follows content's feed: which sites and columns exist, and what is live since when."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.consumer import FeedConsumer
from services.kernel.context import Worker
from services.kernel.db import Database
from services.kernel.feed import FeedEvent, FeedTables
from services.kernel.mail import MailSender
from services.oversight.models import LinkFinding, LiveItem, NoticeSent, WatchedColumn, WatchedSite
from services.oversight.service import incidents, links, messages, notify
from services.oversight.service.freshness import categorise
from services.oversight.service.scorecards import evaluate, raise_alerts

log = logging.getLogger("jiyue.oversight")

# Publication states after which an item no longer counts as the column's content.
GONE_TOPICS = {"publication.withdrawn", "publication.deleted"}
LIVE_TOPICS = {"publication.published", "publication.archived", "publication.moved", "publication.updated"}


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
        elif topic in GONE_TOPICS:
            item = await session.get(LiveItem, int(event.key))
            if item is not None:
                await session.delete(item)
        elif topic in LIVE_TOPICS and payload.get("status") in ("published", "archived"):
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


def every(
    name: str, seconds: float, job: Callable[[], Awaitable[object]], *, at_start: bool = True
) -> Worker:
    """A periodic job that logs a failed round and tries again at the next one; `at_start=False`
    waits one period first (network rounds need not compete with a starting platform)."""

    async def pause(stop: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass

    async def run(stop: asyncio.Event) -> None:
        if not at_start:
            await pause(stop)
        while not stop.is_set():
            try:
                await job()
            except Exception:  # a bad round must not stop the next one
                log.exception("oversight %s failed", name)
            await pause(stop)

    return run


def evaluator(db: Database, feed: FeedTables, every_seconds: float) -> Worker:
    return every("evaluation", every_seconds, lambda: evaluate_all(db, feed))


class InteractionFollower(FeedConsumer):
    """Letters' states and instants, for the unanswered-message indicator and the annual report."""

    name = "oversight-interaction"

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic in messages.TOPICS:
            await messages.apply(session, event)


class ResourceFollower(FeedConsumer):
    """Machine review's tampering findings on stored items, and their take-downs: security incidents."""

    name = "oversight-resources"

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic in incidents.TOPICS:
            await incidents.apply(session, event)


class LinkFollower(FeedConsumer):
    """Checks the links and attachments of every item that goes live or changes while live.

    The network part runs in `before_batch`, outside any transaction; `handle` stores the verdicts."""

    name = "oversight-links"
    batch_size = 20

    def __init__(self, *args: object, checker: Callable[[], links.LinkChecker], **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._checker = checker
        self._verdicts: dict[int, tuple[str, list[links.Verdict]]] = {}

    async def before_batch(self, events: list[FeedEvent]) -> None:
        self._verdicts = {}
        wanted = [
            e
            for e in events
            if e.topic in LIVE_TOPICS and e.payload.get("status") in ("published", "archived")
        ]
        if not wanted:
            return
        checker = self._checker()
        await checker.refresh_hosts()
        for event in wanted:
            site = str(event.payload.get("site") or event.site_id or "")
            try:
                page = await checker.item(site, int(event.key))
            except httpx.HTTPError as exc:  # content unreachable: this item's check waits for the next change
                log.warning("links of item %s not checked: %s", event.key, exc)
                continue
            if page is not None:
                self._verdicts[int(event.key)] = (site, await checker.check(page, site))

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        pid = int(event.key)
        if event.topic in GONE_TOPICS:
            await links.forget(session, pid)
        elif pid in self._verdicts:
            site, verdicts = self._verdicts[pid]
            await links.record(session, pid, site, verdicts)


class Notifier(FeedConsumer):
    """Mails each raised and resolved alert (oversight's own feed) to the responsible people.

    Retried with backoff and set aside as a dead letter by the kernel's consumer when the relay
    keeps refusing; `NoticeSent` makes a redelivered event a no-op, and no transaction is open
    while the relay is talked to (the session is used only after the mail went)."""

    name = "oversight-notifier"

    def __init__(self, *args: object, identity: Callable[[], object], mail: MailSender, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._identity = identity
        self.mail = mail

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic not in ("alert.raised", "alert.resolved"):
            return
        kind = event.topic.removeprefix("alert.")
        alert_id = int(event.key)
        async with self.db.session() as look:
            if await look.get(NoticeSent, (alert_id, kind)) is not None:
                return
            site = await look.get(WatchedSite, event.site_id or "")
        editors = [str(e) for e in event.payload.get("notify") or []]  # type: ignore[union-attr]
        people = await notify.responsible(self._identity(), event.site_id or "", editors)  # type: ignore[arg-type]
        if people:
            name = site.name if site and site.name else (event.site_id or "")
            await self.mail.send(notify.compose(event.payload, name, kind == "resolved", people))
        session.add(
            NoticeSent(
                alert_id=alert_id,
                event=kind,
                recipients=",".join(p.username for p in people)[:2000],
                sent_at=clock.now(),
            )
        )


class LinkRecheck:
    """Links rot after an item went live: each round re-checks the items with broken links (so they
    resolve) and the next `batch` live items, walking all of them over successive rounds."""

    def __init__(self, db: Database, checker: Callable[[], links.LinkChecker], batch: int = 200) -> None:
        self.db = db
        self.checker = checker
        self.batch = batch
        self.after = 0

    async def __call__(self) -> int:
        async with self.db.session() as session:
            broken = set((await session.execute(select(col(LinkFinding.publication_id)))).scalars())
            ids = list(
                (
                    await session.execute(
                        select(col(LiveItem.publication_id))
                        .where(col(LiveItem.publication_id) > self.after)
                        .order_by(col(LiveItem.publication_id))
                        .limit(self.batch)
                    )
                ).scalars()
            )
            sites = {
                i.publication_id: i.site
                for i in (
                    await session.execute(
                        select(LiveItem).where(col(LiveItem.publication_id).in_(broken | set(ids)))
                    )
                ).scalars()
            }
        self.after = ids[-1] if len(ids) == self.batch else 0
        checker = self.checker()
        await checker.refresh_hosts()
        checked = 0
        for pid, site in sorted(sites.items()):
            page = await checker.item(site, pid)  # outside any transaction
            verdicts = await checker.check(page, site) if page is not None else []
            async with self.db.session() as session:
                await (
                    links.record(session, pid, site, verdicts)
                    if page is not None
                    else links.forget(session, pid)
                )
            checked += 1
        return checked
