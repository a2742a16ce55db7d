"""One small async SMTP sender for every service that writes to people (warnings, subscriptions).

Settings are read from the environment (JIYUE_SMTP_*); a platform without a mail relay leaves
`JIYUE_SMTP_HOST` empty and `MailSender.configured` is False, so callers can say so instead of
pretending to have delivered. Sending is never done inside a database transaction: callers
hand it work from a feed consumer, whose retries and dead letters cover a relay that is down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Annotated

import aiosmtplib
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kernel import clock

log = logging.getLogger("jiyue.mail")


# One address rule for every service that stores one (identity's users, interaction's subscribers):
# deliberately plain, no deliverability check — one @, no spaces, dotted ASCII labels a relay
# without SMTPUTF8 can take.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EmailAddress = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN)]


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIYUE_SMTP_", extra="ignore", populate_by_name=True)

    host: str = ""
    port: int = 25
    sender: str = Field(default="noreply@jiyue.invalid", validation_alias="JIYUE_SMTP_FROM")
    username: str = ""
    password: str = ""
    # "none" on a trusted loopback relay; "starttls" or "tls" anywhere else.
    security: str = "none"
    timeout_seconds: float = 15.0


class MailError(Exception):
    """The relay did not take the message. `code` is the SMTP reply code when there was one:
    a 5xx is permanent (retrying will not help), anything else is worth retrying later."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code is not None and 500 <= self.code < 600


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    # Extra header fields, e.g. List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post (RFC 8058).
    headers: tuple[tuple[str, str], ...] = ()


class MailSender:
    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or SmtpSettings()

    @property
    def configured(self) -> bool:
        return bool(self.settings.host)

    def message(self, mail: Mail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(mail.to)
        msg["Subject"] = mail.subject
        for name, value in mail.headers:
            msg[name] = value
        msg["Date"] = formatdate(clock.epoch(), localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2] or None)
        msg.set_content(mail.text)
        if mail.html:
            msg.add_alternative(mail.html, subtype="html")
        return msg

    async def send(self, mail: Mail) -> None:
        if not self.configured:
            raise MailError("未配置邮件服务器（JIYUE_SMTP_HOST）")
        if not mail.to:
            return
        s = self.settings
        try:
            await aiosmtplib.send(
                self.message(mail),
                hostname=s.host,
                port=s.port,
                username=s.username or None,
                password=s.password or None,
                use_tls=s.security == "tls",
                start_tls=True if s.security == "starttls" else False,
                timeout=s.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.warning("mail to %d recipients not sent: %s", len(mail.to), exc)
            raise MailError(f"{type(exc).__name__}: {exc}", _reply_code(exc)) from None


def _reply_code(exc: BaseException) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return min(r.code for r in exc.recipients)
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) and code > 0 else None
