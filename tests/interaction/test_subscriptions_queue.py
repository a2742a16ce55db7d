"""The delivery queue against a real SMTP server on loopback: one row per subscriber and item,
important items ahead of an ordinary backlog, nothing lost while the relay is down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import event, func, insert, select
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionDelivery, metadata
from services.interaction.service.delivery import Links, enqueue
from services.interaction.service.sending import Pace, send_due
from services.interaction.service.subscriptions import Signer
from services.interaction.vocab import DeliveryStatus, SubscriptionStatus
from services.kernel import clock
from services.kernel.db import Database
from services.kernel.mail import MailSender, SmtpSettings
from tests.support.smtp import Inbox, _free_port

LINKS = Links("https://www.jiyue.example", Signer("test-secret", 3600))
PACE = Pace(batch=100, max_attempts=3, retry_base=0.0, retry_max=0.0)


def _doc(pid: int, column: int, important: bool = False) -> dict[str, object]:
    return {
        "publication_id": pid,
        "site": "jtj",
        "site_name": "示范市交通运输局",
        "column_id": column,
        "status": "published",
        "title": f"第{pid}号通知",
        "url": f"/api/content/v1/items/{pid}",
        "important": important,
    }


async def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    now = clock.epoch()
    async with db.session() as session:
        for i, (column, status) in enumerate(
            [
                (7, SubscriptionStatus.CONFIRMED),
                (0, SubscriptionStatus.CONFIRMED),  # the whole site
                (7, SubscriptionStatus.PENDING),  # never confirmed: hears nothing
                (8, SubscriptionStatus.CONFIRMED),  # another column
            ]
        ):
            session.add(
                Subscription(
                    site="jtj",
                    target="column" if column else "site",
                    column_id=column,
                    subscriber=f"c{i}",
                    email=f"c{i}@example.com",
                    rhythm="immediate",
                    status=status,
                    created_at=now,
                )
            )
    return db


async def _deliveries(db: Database) -> list[SubscriptionDelivery]:
    async with db.session() as session:
        stmt = select(SubscriptionDelivery).order_by(col(SubscriptionDelivery.id))
        return list((await session.execute(stmt)).scalars())


async def test_matching_is_per_column_or_site_and_replay_adds_nothing(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    async with db.session() as session:
        assert await enqueue(session, _doc(1, 7)) == 2
    async with db.session() as session:
        assert await enqueue(session, _doc(1, 7)) == 0
    rows = await _deliveries(db)
    assert sorted(r.subscription_id for r in rows) == [1, 2]
    await db.engine.dispose()


async def test_matching_an_item_costs_the_same_statements_for_4_or_2004_subscribers(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    async def enqueued(pid: int) -> tuple[int, int]:
        statements.clear()
        async with db.session() as session:
            added = await enqueue(session, _doc(pid, 7))
        return added, len(statements)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    few = await enqueued(1)
    now = clock.epoch()
    async with db.session() as session:
        await session.execute(
            insert(Subscription),
            [
                {
                    "site": "jtj",
                    "target": "column",
                    "column_id": 7,
                    "subscriber": f"m{i}",
                    "email": f"m{i}@example.com",
                    "rhythm": "immediate",
                    "status": SubscriptionStatus.CONFIRMED.value,
                    "created_at": now,
                    "bounces": 0,
                }
                for i in range(2000)
            ],
        )
    many = await enqueued(2)
    event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    # One INSERT … SELECT per item: the statements do not grow with the subscribers.
    assert few[0] == 2 and many[0] == 2002
    assert few[1] == many[1] <= 4, (few, many)
    await db.engine.dispose()


async def test_important_first_and_a_relay_that_was_down_loses_nothing(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    inbox = Inbox()
    port = _free_port()
    sender = MailSender(SmtpSettings(host="127.0.0.1", port=port, sender="push@jiyue.example"))
    async with db.session() as session:
        for pid in (1, 2, 3):
            await enqueue(session, _doc(pid, 7))
        await enqueue(session, _doc(4, 8, important=True))  # queued last, behind the backlog
    # The relay is down: every row is tried, stays pending, its attempts counted.
    assert await send_due(db, sender, LINKS, PACE) == 8
    rows = await _deliveries(db)
    assert {r.status for r in rows} == {DeliveryStatus.PENDING} and {r.attempts for r in rows} == {1}
    assert all(r.last_error for r in rows)

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert await send_due(db, sender, LINKS, PACE) == 8
    finally:
        controller.stop()
    subjects = [str(m["Subject"]) for m in inbox.messages]
    # 3 ordinary items x (column 7 + whole site), then the important one: column 8 + whole site.
    assert len(subjects) == 8
    assert subjects[:2] == ["【重要】示范市交通运输局：第4号通知"] * 2
    assert all("【重要】" not in s for s in subjects[2:])
    assert {r.status for r in await _deliveries(db)} == {DeliveryStatus.SENT}
    first = inbox.messages[0]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(first["List-Unsubscribe"]).startswith("<https://www.jiyue.example/sites/jtj/")
    await db.engine.dispose()


async def test_after_the_last_attempt_a_row_is_dead_and_says_why(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    sender = MailSender(SmtpSettings(host="127.0.0.1", port=_free_port()))
    async with db.session() as session:
        await enqueue(session, _doc(1, 8))
    for _ in range(PACE.max_attempts):
        assert await send_due(db, sender, LINKS, PACE) == 2  # column 8 and the whole site
    assert await send_due(db, sender, LINKS, PACE) == 0
    for row in await _deliveries(db):
        assert row.status == DeliveryStatus.DEAD and row.attempts == 3 and row.last_error
    async with db.session() as session:
        pending = await session.execute(
            select(func.count()).where(col(SubscriptionDelivery.status) == DeliveryStatus.PENDING)
        )
        assert pending.scalar_one() == 0
    await db.engine.dispose()


async def test_a_subscriber_who_left_after_queueing_gets_nothing(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    inbox = Inbox()
    port = _free_port()
    sender = MailSender(SmtpSettings(host="127.0.0.1", port=port))
    async with db.session() as session:
        await enqueue(session, _doc(1, 8))
        sub = await session.get(Subscription, 4)
        assert sub is not None
        sub.status = SubscriptionStatus.UNSUBSCRIBED
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert await send_due(db, sender, LINKS, PACE) == 2
    finally:
        controller.stop()
    assert [rcpt for _, rcpt in inbox.envelopes] == [["c1@example.com"]]
    statuses = {r.subscription_id: r.status for r in await _deliveries(db)}
    assert statuses == {2: DeliveryStatus.SENT, 4: DeliveryStatus.CANCELLED}
    await db.engine.dispose()
