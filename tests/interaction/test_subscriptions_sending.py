"""The sender's claims, bounces, rate and lanes against a real SMTP server on loopback (and, for
concurrent senders, real PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from sqlalchemy import insert, select
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionDelivery, metadata
from services.interaction.service.delivery import enqueue
from services.interaction.service.sending import Bucket, Pace, claim, queue_stats, send_due
from services.interaction.vocab import DeliveryStatus, SubscriptionStatus
from services.kernel import clock
from services.kernel.db import Database
from services.kernel.mail import MailSender, SmtpSettings
from tests.interaction.conftest import Actors
from tests.interaction.test_subscriptions_queue import LINKS, _doc
from tests.support import real
from tests.support.services import running_service
from tests.support.smtp import Inbox, _free_port
from tests.support.tokens import TestIssuer


async def _db(url: str, subscribers: int) -> Database:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    now = clock.epoch()
    rows = [
        {
            "site": "jtj",
            "column_id": 7,
            "subscriber": f"c{i}",
            "email": f"c{i}@example.com",
            "rhythm": "immediate",
            "status": SubscriptionStatus.CONFIRMED.value,
            "created_at": now,
            "bounces": 0,
        }
        for i in range(subscribers)
    ]
    async with db.session() as session:
        await session.execute(insert(Subscription), rows)
    return db


class Bouncing(Inbox):
    """Refuses RCPT to c0 permanently (550), takes the rest."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("c0@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Greylisting(Inbox):
    """Refuses RCPT to c0 for a while (450, try again later), takes the rest."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("c0@") and self.refusals > 0:
            self.refusals -= 1
            return "450 4.2.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _relay(inbox: Inbox) -> tuple[Controller, MailSender]:
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, MailSender(SmtpSettings(host="127.0.0.1", port=port, sender="push@jiyue.example"))


async def _until(done: Callable[[], bool]) -> None:
    while True:
        if done():
            return
        await asyncio.sleep(0.05)


async def _of_c0(db: Database) -> SubscriptionDelivery:
    async with db.session() as session:
        stmt = select(SubscriptionDelivery).where(col(SubscriptionDelivery.subscription_id) == 1)
        return (await session.execute(stmt)).scalar_one()


async def _statuses(db: Database) -> Counter[str]:
    async with db.session() as session:
        return Counter((await session.execute(select(col(SubscriptionDelivery.status)))).scalars())


@pytest.mark.integration
async def test_two_senders_on_postgres_send_every_delivery_exactly_once() -> None:
    url = await real.fresh_postgres_database()
    db_a, db_b = await _db(url, 150), Database(url)
    async with db_a.session() as session:
        for pid in (1, 2):
            await enqueue(session, _doc(pid, 7))
    inbox = Inbox()
    controller, sender = _relay(inbox)
    pace = Pace(batch=20, max_attempts=3, retry_base=0.0, retry_max=0.0, concurrency=4)

    async def drain(db: Database) -> int:
        total = 0
        while (n := await send_due(db, sender, LINKS, pace)) > 0:
            total += n
        return total

    try:
        a, b = await asyncio.wait_for(asyncio.gather(drain(db_a), drain(db_b)), timeout=120)
    finally:
        controller.stop()
    # Both replicas did part of the work, and nothing went out twice.
    assert a > 0 and b > 0 and a + b == 300
    seen = Counter(
        (rcpt[0], str(m["Subject"])) for m, (_, rcpt) in zip(inbox.messages, inbox.envelopes, strict=True)
    )
    assert len(seen) == 300 and set(seen.values()) == {1}
    assert await _statuses(db_a) == Counter({DeliveryStatus.SENT.value: 300})
    await db_a.engine.dispose()
    await db_b.engine.dispose()


async def test_a_claim_whose_sender_died_is_reclaimed_after_its_lease(tmp_path: Path) -> None:
    db = await _db(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", 3)
    async with db.session() as session:
        await enqueue(session, _doc(1, 7))
    pace = Pace(batch=10, max_attempts=3, retry_base=0.0, retry_max=0.0, lease=0.3)
    _, taken = await claim(db, pace)  # ... and the sender dies before sending
    assert len(taken) == 3
    assert (await claim(db, pace))[1] == []  # still leased: nobody else takes them
    await asyncio.sleep(0.4)
    inbox = Inbox()
    controller, sender = _relay(inbox)
    try:
        assert await send_due(db, sender, LINKS, pace) == 3
    finally:
        controller.stop()
    assert len(inbox.messages) == 3
    assert await _statuses(db) == Counter({DeliveryStatus.SENT.value: 3})
    async with db.session() as session:
        attempts = set((await session.execute(select(col(SubscriptionDelivery.attempts)))).scalars())
    assert attempts == {2}  # the lost try counts
    await db.engine.dispose()


async def test_a_permanent_refusal_is_not_retried_and_suspends_the_address(tmp_path: Path) -> None:
    db = await _db(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", 2)
    inbox = Bouncing()
    controller, sender = _relay(inbox)
    pace = Pace(batch=10, max_attempts=5, retry_base=0.0, retry_max=0.0, max_bounces=2)
    try:
        for pid, queued in ((1, 2), (2, 2), (3, 1)):  # suspended after two bounces: not matched
            async with db.session() as session:
                assert await enqueue(session, _doc(pid, 7)) == queued
            assert await send_due(db, sender, LINKS, pace) == queued
        assert await send_due(db, sender, LINKS, pace) == 0  # dead at once: no retry
    finally:
        controller.stop()
    assert [rcpt for _, rcpt in inbox.envelopes] == [["c1@example.com"]] * 3
    async with db.session() as session:
        c0 = await session.get(Subscription, 1)
        assert c0 is not None and c0.status == SubscriptionStatus.SUSPENDED and c0.bounces == 2
        rows = (
            (
                await session.execute(
                    select(SubscriptionDelivery).where(col(SubscriptionDelivery.subscription_id) == 1)
                )
            )
            .scalars()
            .all()
        )
    assert [r.status for r in sorted(rows, key=lambda r: r.id or 0)] == ["dead", "dead"]
    assert all(r.attempts == 1 for r in rows) and "550" in (rows[0].last_error or "")
    await db.engine.dispose()


async def test_a_temporary_refusal_is_retried_and_lands_without_counting_as_a_bounce(tmp_path: Path) -> None:
    db = await _db(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", 2)
    inbox = Greylisting(refusals=2)
    controller, sender = _relay(inbox)
    pace = Pace(batch=10, max_attempts=5, retry_base=0.0, retry_max=0.0, max_bounces=1)
    try:
        async with db.session() as session:
            assert await enqueue(session, _doc(1, 7)) == 2
        assert await send_due(db, sender, LINKS, pace) == 2  # c1 lands, c0 is refused (450)
        row = await _of_c0(db)
        assert row.status == DeliveryStatus.PENDING and "450" in (row.last_error or "")
        assert await send_due(db, sender, LINKS, pace) == 1  # refused once more
        assert await send_due(db, sender, LINKS, pace) == 1  # and now taken
        assert await send_due(db, sender, LINKS, pace) == 0
    finally:
        controller.stop()
    assert sorted(rcpt[0] for _, rcpt in inbox.envelopes) == ["c0@example.com", "c1@example.com"]
    assert await _statuses(db) == Counter({DeliveryStatus.SENT.value: 2})
    async with db.session() as session:
        c0 = await session.get(Subscription, 1)
    # A 4xx is not a bounce: with max_bounces=1 one 5xx would have suspended the address.
    assert c0 is not None and c0.status == SubscriptionStatus.CONFIRMED and c0.bounces == 0
    assert (await _of_c0(db)).attempts == 3
    await db.engine.dispose()


async def test_the_bucket_holds_the_rate() -> None:
    bucket = Bucket(rate=20.0, burst=1.0)
    start = clock.epoch()
    for _ in range(11):
        await bucket.take()
    assert 0.45 <= clock.epoch() - start < 2.0  # 10 refills at 20/s after the first token


async def test_important_messages_all_arrive_before_the_ordinary_backlog_drains(tmp_path: Path) -> None:
    """1/20 of the bench: 1,000 subscribers, 20 ordinary items, then one important item."""
    db = await _db(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", 1000)
    async with db.session() as session:
        for pid in range(1, 21):
            await enqueue(session, _doc(pid, 7))
    inbox = Inbox()
    controller, sender = _relay(inbox)
    pace = Pace(batch=100, max_attempts=3, retry_base=0.0, retry_max=0.0, concurrency=8)
    stop = asyncio.Event()

    async def run() -> None:
        while not stop.is_set():
            await send_due(db, sender, LINKS, pace)

    task = asyncio.create_task(run())
    try:
        async with asyncio.timeout(300):  # loose: ordering is the claim here, not speed
            await _until(lambda: len(inbox.messages) >= 200)  # deep in the ordinary backlog
            async with db.session() as session:
                await enqueue(session, _doc(21, 7, important=True))
            stats = await queue_stats(db)
            assert stats["important"][0] == 1000 and stats["ordinary"][0] > 10_000
            assert REGISTRY.get_sample_value("jiyue_subscription_queue_depth", {"lane": "important"}) == 1000
            # The backlog's age is measured too: its oldest rows waited since before the 200 sent.
            age = REGISTRY.get_sample_value("jiyue_subscription_queue_oldest_seconds", {"lane": "ordinary"})
            assert age == stats["ordinary"][1] and age is not None and age > 0
            await _until(lambda: sum("【重要】" in str(m["Subject"]) for m in inbox.messages) >= 1000)
    finally:
        stop.set()
        await task
        controller.stop()
    subjects = [str(m["Subject"]) for m in inbox.messages]
    last_important = max(i for i, s in enumerate(subjects) if "【重要】" in s)
    ordinary_before = sum(1 for s in subjects[:last_important] if "【重要】" not in s)
    # Only what was already claimed when the important item came may slip ahead of it.
    assert ordinary_before < 200 + 2 * pace.batch
    stats = await queue_stats(db)
    assert stats["important"] == (0, 0.0) and stats["ordinary"][0] > 15_000
    await db.engine.dispose()


async def test_staff_see_a_sites_dead_deliveries_and_send_one_again(
    tmp_path: Path, issuer: TestIssuer, actors: Actors
) -> None:
    async with running_service("interaction", tmp_path / "var", issuer) as (app, client):
        db: Database = app.state.ctx.db
        now = clock.epoch()
        async with db.session() as session:
            session.add(
                Subscription(
                    site="jtj",
                    column_id=8,
                    subscriber="c",
                    email="c@example.com",
                    rhythm="immediate",
                    status=SubscriptionStatus.SUSPENDED,
                    created_at=now,
                    bounces=3,
                )
            )
            await session.flush()
            await enqueue(session, _doc(1, 8))  # nobody confirmed: the dead row is added by hand
            session.add(
                SubscriptionDelivery(
                    subscription_id=1,
                    publication_id=1,
                    status=DeliveryStatus.DEAD,
                    attempts=1,
                    next_at=now,
                    created_at=now,
                    last_error="SMTPRecipientsRefused: 550",
                )
            )
        url = "/api/interaction/v1/subscription-deliveries"
        assert (await client.get(f"{url}/dead", headers=actors.citizen)).status_code == 403
        assert (await client.get(f"{url}/dead", headers=actors.other_handler)).status_code == 403
        page = (await client.get(f"{url}/dead", headers=actors.site_admin)).json()
        assert page["total"] == 1 and page["items"][0]["last_error"].endswith("550")
        resp = await client.post(f"{url}/{page['items'][0]['id']}/retry", headers=actors.site_admin)
        assert resp.status_code == 200 and resp.json()["attempts"] == 0
        assert (
            await client.post(f"{url}/{page['items'][0]['id']}/retry", headers=actors.site_admin)
        ).status_code == 404
        assert (await client.get(f"{url}/dead", headers=actors.site_admin)).json()["total"] == 0
        async with db.session() as session:
            sub = await session.get(Subscription, 1)
            row = (await session.execute(select(SubscriptionDelivery))).scalar_one()
        assert sub is not None and sub.status == SubscriptionStatus.CONFIRMED and sub.bounces == 0
        assert row.status == DeliveryStatus.PENDING
