"""The kernel's SMTP sender against a real loopback SMTP server: what arrived is what was sent."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.kernel.mail import Mail, MailError, MailSender, SmtpSettings
from tests.support.smtp import Inbox, _free_port, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    yield from smtp_server()


async def test_a_chinese_mail_arrives_with_both_parts(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp
    await MailSender(settings).send(
        Mail(
            ("zhang@jyj.example", "li@jyj.example"),
            "【预警】首页 11 天未更新",
            "请尽快更新首页。",
            "<p>请尽快更新首页。</p>",
        )
    )
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["Subject"] == "【预警】首页 11 天未更新"
    assert message["From"] == "jiankong@jiyue.example"
    assert sorted(inbox.envelopes[0][1]) == ["li@jyj.example", "zhang@jyj.example"]
    plain = message.get_body(("plain",))
    assert plain is not None and plain.get_content().strip() == "请尽快更新首页。"


async def test_a_refusing_relay_raises_so_the_caller_retries(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp
    inbox.refuse = 1
    sender = MailSender(settings)
    with pytest.raises(MailError):
        await sender.send(Mail(("a@b.example",), "s", "t"))
    await sender.send(Mail(("a@b.example",), "s", "t"))
    assert len(inbox.to("a@b.example")) == 1


async def test_no_relay_configured_is_said_not_pretended() -> None:
    sender = MailSender(SmtpSettings())
    assert not sender.configured
    with pytest.raises(MailError):
        await sender.send(Mail(("a@b.example",), "s", "t"))


def test_from_is_read_from_jiyue_smtp_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIYUE_SMTP_HOST", "relay.example")
    monkeypatch.setenv("JIYUE_SMTP_FROM", "ops@city.example")
    settings = SmtpSettings()
    assert (settings.host, settings.sender) == ("relay.example", "ops@city.example")


class Peers:
    """Notes the client's address of every message: one session, one (host, port)."""

    def __init__(self) -> None:
        self.peers: list[object] = []

    async def handle_DATA(self, server: object, session: Any, envelope: object) -> str:
        self.peers.append(session.peer)
        return "250 OK"


async def test_messages_share_pooled_sessions_and_a_restarted_relay_is_reconnected() -> None:
    handler = Peers()
    port = _free_port()
    settings = SmtpSettings(host="127.0.0.1", port=port, pool_size=2, messages_per_session=4)
    sender = MailSender(settings)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for i in range(6):  # one after another: one session, renewed after its fourth message
            await sender.send(Mail((f"r{i}@b.example",), "s", "t"))
        assert len(handler.peers) == 6 and len(set(handler.peers)) == 2
        assert handler.peers[:4] == [handler.peers[0]] * 4
        await asyncio.gather(*(sender.send(Mail((f"c{i}@b.example",), "s", "t")) for i in range(10)))
        assert max(Counter(handler.peers).values()) == 4  # no session carries more than its share
        assert len(set(handler.peers)) < 16  # sessions were reused under concurrency too
    finally:
        controller.stop()
    # The relay went away with our idle session in the pool: the first send on a dead session
    # is retried once on a fresh one, so nothing is lost and no error reaches the caller.
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await sender.send(Mail(("after@b.example",), "s", "t"))
        assert len(handler.peers) == 17
    finally:
        controller.stop()
    with pytest.raises(MailError) as down:  # no relay at all: a retryable error, no reply code
        await sender.send(Mail(("down@b.example",), "s", "t"))
    assert down.value.code is None and not down.value.permanent
    await sender.aclose()
