"""The kernel's SMTP sender against a real loopback SMTP server: what arrived is what was sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.kernel.mail import Mail, MailError, MailSender, SmtpSettings
from tests.support.smtp import Inbox, smtp_server


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
