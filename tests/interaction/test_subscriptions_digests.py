"""Digests and templates against a real SMTP server on loopback, time moved by the one clock."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from services.interaction.models import SiteMailTemplate, Subscription, metadata
from services.interaction.schemas.templates import MailTemplateIn
from services.interaction.service.delivery import Links, enqueue
from services.interaction.service.digests import assemble, send_digests
from services.interaction.service.sending import Pace, send_due
from services.interaction.service.subscriptions import Signer
from services.interaction.service.templates import put_template
from services.interaction.vocab import SubscriptionStatus
from services.kernel import clock
from services.kernel.db import Database
from services.kernel.errors import ValidationFailed
from services.kernel.mail import MailSender, SmtpSettings
from tests.support.smtp import Inbox, _free_port

LINKS = Links("https://www.jiyue.example", Signer("test-secret", 3600))
PACE = Pace(batch=100, max_attempts=3, retry_base=0.0, retry_max=0.0)
HOUR = 7


def _doc(pid: int) -> dict[str, object]:
    return {
        "publication_id": pid,
        "site": "jtj",
        "site_name": "示范市交通运输局",
        "column_id": 7,
        "status": "published",
        "title": f"第{pid}号通知",
        "url": f"/api/content/v1/items/{pid}",
        "issuer_org": "示范市交通运输局办公室",
        "doc_no": f"示交〔2026〕{pid}号",
        "published_at": "2026-12-02T10:00:00+08:00",
    }


async def _db(tmp_path: Path, rhythms: list[str]) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.session() as session:
        for i, rhythm in enumerate(rhythms):
            session.add(
                Subscription(
                    site="jtj",
                    column_id=7,
                    subscriber=f"c{i}",
                    email=f"{rhythm}@example.com",
                    rhythm=rhythm,
                    status=SubscriptionStatus.CONFIRMED,
                    created_at=clock.epoch(),
                )
            )
    return db


def _at(y: int, m: int, d: int, h: int) -> None:
    """Move the one clock to a Shanghai wall time."""
    target = datetime(y, m, d, h, tzinfo=clock.SHANGHAI).astimezone(UTC)
    clock.shift(target - clock.now())


@pytest.fixture(autouse=True)
def _restore_clock() -> object:
    yield
    clock.reset()


@pytest.fixture
def smtp() -> object:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, MailSender(SmtpSettings(host="127.0.0.1", port=port, sender="push@jiyue.example"))
    controller.stop()


def _parts(msg: Message) -> tuple[str, str]:
    parsed = email.message_from_bytes(msg.as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    text = html = ""
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
            text = payload.decode(part.get_content_charset() or "utf-8")
        if part.get_content_type() == "text/html" and isinstance(payload, bytes):
            html = payload.decode(part.get_content_charset() or "utf-8")
    return text, html


async def _tick(db: Database, sender: MailSender) -> None:
    await assemble(db, HOUR)
    await send_digests(db, sender, LINKS, PACE)


async def test_daily_digest_one_message_with_all_items_none_on_an_empty_day(
    tmp_path: Path, smtp: object
) -> None:
    inbox, sender = smtp  # type: ignore[misc]
    db = await _db(tmp_path, ["daily"])
    _at(2026, 12, 2, 9)
    async with db.session() as session:
        for pid in (1, 2, 3):
            await enqueue(session, _doc(pid))
    assert await send_due(db, sender, LINKS, PACE) == 0  # collected, not sent at once
    _at(2026, 12, 3, 6)  # the day closed, but its hour has not come
    await _tick(db, sender)
    assert inbox.messages == []
    _at(2026, 12, 3, 8)
    await _tick(db, sender)
    await _tick(db, sender)  # a retry of the worker sends nothing twice
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert "2026-12-02" in str(msg["Subject"]) and "共 3 条" in str(msg["Subject"])
    text, html = _parts(msg)
    for pid in (1, 2, 3):
        assert f"第{pid}号通知" in text and f"第{pid}号通知" in html
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "unsubscribe?token=" in text and "unsubscribe?token=" in html
    _at(2026, 12, 5, 8)  # 12-03 and 12-04 had no items: no digest
    await _tick(db, sender)
    assert len(inbox.messages) == 1
    await db.engine.dispose()


async def test_weekly_digest_and_a_relay_that_was_down(tmp_path: Path, smtp: object) -> None:
    inbox, sender = smtp  # type: ignore[misc]
    db = await _db(tmp_path, ["weekly"])
    _at(2026, 11, 30, 9)  # a Monday
    async with db.session() as session:
        await enqueue(session, _doc(1))
    _at(2026, 12, 4, 9)
    async with db.session() as session:
        await enqueue(session, _doc(2))
    _at(2026, 12, 6, 23)  # Sunday: the week is still open
    await _tick(db, sender)
    assert inbox.messages == []
    _at(2026, 12, 7, 8)
    down = MailSender(SmtpSettings(host="127.0.0.1", port=_free_port()))
    await _tick(db, down)  # assembled, the send fails and stays pending
    assert inbox.messages == []
    await _tick(db, sender)
    assert len(inbox.messages) == 1
    text, _ = _parts(inbox.messages[0])
    assert "第1号通知" in text and "第2号通知" in text and "2026-11-30~2026-12-06" in text
    await db.engine.dispose()


async def test_immediate_message_shows_site_and_meta_and_a_site_template_is_used(
    tmp_path: Path, smtp: object
) -> None:
    inbox, sender = smtp  # type: ignore[misc]
    db = await _db(tmp_path, ["immediate"])
    async with db.session() as session:
        await enqueue(session, _doc(1))
    assert await send_due(db, sender, LINKS, PACE) == 1
    text, html = _parts(inbox.messages[0])
    for part in (text, html):
        for want in (
            "示范市交通运输局",
            "第1号通知",
            "示范市交通运输局办公室",
            "示交〔2026〕1号",
            "2026-12-02",
        ):
            assert want in part
    async with db.session() as session:
        await put_template(
            session,
            "jtj",
            MailTemplateIn(
                subject="【{{ site_name }}】{{ items[0].title }}",
                text="{% for i in items %}* {{ i.title }} {{ i.doc_no }}{% endfor %}",
                html="<h1>{{ site_name }}</h1>{% for i in items %}<b>{{ i.title }}</b>{% endfor %}",
            ),
            "admin",
        )
        await enqueue(session, {**_doc(2), "title": "<script>x</script>"})
    assert await send_due(db, sender, LINKS, PACE) == 1
    msg = inbox.messages[1]
    assert str(msg["Subject"]) == "【示范市交通运输局】<script>x</script>"
    text, html = _parts(msg)
    assert text.startswith("* <script>x</script> 示交〔2026〕2号")
    assert "<h1>示范市交通运输局</h1>" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "unsubscribe?token=" in text and msg["List-Unsubscribe"]
    await db.engine.dispose()


@pytest.mark.parametrize(
    "field,source",
    [
        ("text", "{% for i in items %}"),  # syntax
        ("subject", "{{ secret }}"),  # unknown variable
        ("html", "{{ items[0].nope }}"),  # unknown item field
        ("text", "{{ items.__class__.__mro__ }}"),  # the sandbox refuses
    ],
)
async def test_a_bad_template_is_refused_and_nothing_stored(tmp_path: Path, field: str, source: str) -> None:
    db = await _db(tmp_path, [])
    body = {"subject": "s", "text": "t", "html": "h", field: source}
    async with db.session() as session:
        with pytest.raises(ValidationFailed):
            await put_template(session, "jtj", MailTemplateIn(**body), "admin")
    async with db.session() as session:
        assert await session.get(SiteMailTemplate, "jtj") is None
    await db.engine.dispose()
