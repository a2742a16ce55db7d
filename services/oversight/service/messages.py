"""Messages (留言) as interaction's feed tells them: the unanswered-message indicator and the
annual report's 留言办理 rows. A message is valid once machine review let it through (screened-out
letters never reach the feed) and it was not refused; the inspection counts 政务咨询 messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.feed import FeedEvent
from services.oversight.models import WatchedLetter
from services.oversight.service.freshness import Evidence, Finding, Rules, level_of
from services.oversight.vocab import Indicator

TOPICS = ["letter.received", "letter.accepted", "letter.refused", "letter.replied", "letter.published"]
# Kinds the inspection's 3-month rule is about (政务咨询类留言).
INSPECTED_KINDS = ("consultation",)


def _at(event: FeedEvent) -> datetime:
    # In UTC: SQLite keeps only the wall time, so a +08:00 instant must not reach it.
    if not event.created_at:
        return clock.now()
    return clock.aware(datetime.fromisoformat(event.created_at)).astimezone(UTC)


async def apply(session: AsyncSession, event: FeedEvent) -> None:
    """Idempotent: each topic sets a state and the instant it first happened."""
    payload = event.payload
    letter = await session.get(WatchedLetter, int(event.key))
    at = _at(event)
    if letter is None:
        letter = WatchedLetter(
            letter_id=int(event.key),
            site=event.site_id or "",
            kind=str(payload.get("kind") or ""),
            status=str(payload.get("status") or "received"),
            received_at=at,
        )
    letter.status = str(payload.get("status") or letter.status)
    if event.topic == "letter.replied":
        letter.replied_at = letter.replied_at or at
        letter.closed_at = letter.closed_at or at
    elif event.topic == "letter.refused":
        letter.closed_at = letter.closed_at or at
    elif event.topic == "letter.published":
        letter.published = True
    session.add(letter)


async def unanswered(session: AsyncSession, code: str, rules: Rules, now: datetime) -> Finding:
    """The oldest valid consultation still without a reply, in days; each one past the warning line is evidence."""
    warn_days, veto_days = rules.freshness["unanswered"]
    rows = (
        (
            await session.execute(
                select(WatchedLetter)
                .where(
                    col(WatchedLetter.site) == code,
                    col(WatchedLetter.kind).in_(INSPECTED_KINDS),
                    col(WatchedLetter.closed_at).is_(None),
                )
                .order_by(col(WatchedLetter.received_at))
            )
        )
        .scalars()
        .all()
    )
    waiting = [(r, (now - clock.aware(r.received_at)).days) for r in rows]
    oldest = max((days for _, days in waiting), default=0)
    evidence = [
        Evidence(None, f"留言 #{r.letter_id}", None, days, since=clock.aware(r.received_at), detail="未答复")
        for r, days in waiting
        if days >= warn_days
    ]
    level = level_of(oldest, warn_days, veto_days)
    return Finding(Indicator.UNANSWERED_MESSAGES, level, oldest, warn_days, veto_days, evidence[:50])


@dataclass(frozen=True)
class MessageFigures:
    received: int
    closed: int
    average_days: float
    published: int


async def figures(session: AsyncSession, code: str, first: datetime, last: datetime) -> MessageFigures:
    """留言办理 of one year: received in it, closed in it, mean days to a reply, published with consent."""
    rows = (
        (await session.execute(select(WatchedLetter).where(col(WatchedLetter.site) == code))).scalars().all()
    )

    def within(at: datetime | None) -> bool:
        return at is not None and first <= clock.aware(at) < last

    received = [r for r in rows if within(r.received_at)]
    closed = [r for r in rows if within(r.closed_at)]
    replied = [r for r in rows if within(r.replied_at) and r.replied_at is not None]
    days = [(clock.aware(r.replied_at) - clock.aware(r.received_at)).total_seconds() / 86400 for r in replied]  # type: ignore[arg-type]
    return MessageFigures(
        received=len(received),
        closed=len(closed),
        average_days=round(sum(days) / len(days), 1) if days else 0.0,
        published=sum(1 for r in rows if r.published and within(r.received_at)),
    )
