"""One small async SMTP sender for every service that writes to people (warnings, subscriptions).

Settings are read from the environment (JIYUE_SMTP_*); a platform without a mail relay leaves
`JIYUE_SMTP_HOST` empty and `MailSender.configured` is False, so callers can say so instead of
pretending to have delivered. Sending is never done inside a database transaction: callers
hand it work from a feed consumer, whose retries and dead letters cover a relay that is down.

A sender keeps a small pool of SMTP sessions to its relay (one TCP + EHLO + TLS + AUTH handshake
serves `messages_per_session` messages) and lets at most `pool_size` messages be in flight at
once, so callers may send concurrently without opening a connection per message.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formatdate, make_msgid, parseaddr
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
    # Sessions open at once to the relay (= messages in flight); a relay may cap this per client.
    pool_size: int = Field(default=8, ge=1, le=64)
    # Messages one session carries before it is closed and a fresh one opened.
    messages_per_session: int = Field(default=100, ge=1)
    # A session idle longer than this is closed rather than reused (relays drop idle clients).
    idle_seconds: float = Field(default=30.0, gt=0)


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


class _Encoded(Compat32):
    """Writes header values as they are: `MailSender.message` stores them already RFC 2047
    encoded and free of line breaks but the encoder's own folds, so re-folding every header
    (compat32 builds a Header object for each, per message) is work a fan-out need not do."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        folded = str(value).replace("\r\n", "\n").replace("\n", self.linesep)
        return f"{name}: {folded}{self.linesep}"


_WIRE = _Encoded(linesep="\r\n")


def wire_bytes(message: Message) -> bytes:
    """The message as it goes over SMTP (CRLF line ends)."""
    out = io.BytesIO()
    BytesGenerator(out, policy=_WIRE).flatten(message)
    return out.getvalue()


@dataclass
class _Session:
    smtp: aiosmtplib.SMTP
    sent: int = 0
    used_at: float = 0.0


class _Lost(Exception):
    """The session broke under a message (the relay closed it, the connection reset)."""

    def __init__(self, error: MailError) -> None:
        super().__init__(str(error))
        self.error = error


class _Pool:
    """Idle sessions to the relay and the gate on messages in flight. Sessions belong to the
    event loop that opened them, so a sender used from another loop starts a pool afresh."""

    def __init__(self, size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.gate = asyncio.Semaphore(size)
        self.idle: list[_Session] = []

    def take(self, idle_seconds: float) -> _Session | None:
        now = time.monotonic()
        while self.idle:
            session = self.idle.pop()
            if now - session.used_at <= idle_seconds and session.smtp.is_connected:
                return session
            session.smtp.close()
        return None


class MailSender:
    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or SmtpSettings()
        self._envelope_from = parseaddr(self.settings.sender)[1] or self.settings.sender
        self._pool: _Pool | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.host)

    def message(self, mail: Mail) -> Message:
        """The MIME message. Built with the compat32 classes: EmailMessage's header registry
        costs some 5 ms a message, a fan-out's largest CPU cost after compiling templates."""
        msg: Message = MIMEText(mail.text, "plain", "utf-8")
        if mail.html:
            alternative = MIMEMultipart("alternative")
            alternative.attach(msg)
            alternative.attach(MIMEText(mail.html, "html", "utf-8"))
            msg = alternative
        msg["From"] = _header(self.settings.sender)
        msg["To"] = ", ".join(mail.to)
        msg["Subject"] = _header(mail.subject)
        for name, value in mail.headers:
            msg[name] = _header(value)
        msg["Date"] = formatdate(clock.epoch(), localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2] or None)
        return msg

    def _current(self) -> _Pool:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool.loop is not loop:
            self._pool = _Pool(self.settings.pool_size)
        return self._pool

    async def send(self, mail: Mail) -> None:
        """Send one message through a pooled session. A session the relay closed while it was
        idle is replaced once, transparently; any other failure is the caller's MailError."""
        if not self.configured:
            raise MailError("未配置邮件服务器（JIYUE_SMTP_HOST）")
        if not mail.to:
            return
        message = wire_bytes(self.message(mail))
        pool = self._current()
        async with pool.gate:
            reused = pool.take(self.settings.idle_seconds)
            try:
                if reused is not None:
                    try:
                        await self._through(pool, reused, message, mail.to)
                        return
                    except _Lost:
                        pass  # closed while idle: once more on a fresh session
                await self._through(pool, await self._open(), message, mail.to)
                return
            except _Lost as lost:
                error = lost.error
            except MailError as exc:
                error = exc
        log.warning("mail to %d recipients not sent: %s", len(mail.to), error)
        raise error

    async def _open(self) -> _Session:
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username or None,
            password=s.password or None,
            use_tls=s.security == "tls",
            start_tls=True if s.security == "starttls" else False,
            timeout=s.timeout_seconds,
        )
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            smtp.close()
            raise _error(exc) from None
        return _Session(smtp)

    async def _through(self, pool: _Pool, session: _Session, message: bytes, to: tuple[str, ...]) -> None:
        try:
            await session.smtp.sendmail(self._envelope_from, list(to), message)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
            # The relay answered (aiosmtplib has reset the envelope): the session goes on,
            # unless the relay said it is closing (421).
            self._release(pool, session, closing=getattr(exc, "code", 0) == 421)
            raise _error(exc) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            session.smtp.close()
            if isinstance(exc, ConnectionError):
                raise _Lost(_error(exc)) from None
            raise _error(exc) from None
        session.sent += 1
        self._release(pool, session, closing=session.sent >= self.settings.messages_per_session)

    def _release(self, pool: _Pool, session: _Session, closing: bool) -> None:
        if closing or not session.smtp.is_connected:
            session.smtp.close()
            return
        session.used_at = time.monotonic()
        pool.idle.append(session)

    async def aclose(self) -> None:
        """Say goodbye to the relay on every idle session (at shutdown)."""
        pool, self._pool = self._pool, None
        if pool is None or pool.loop is not asyncio.get_running_loop():
            return
        for session in pool.idle:
            try:
                await session.smtp.quit(timeout=2.0)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                session.smtp.close()


def _header(value: str) -> str:
    """One line (no header injection), in RFC 2047 encoded words if not ASCII (Chinese subjects,
    display names)."""
    value = " ".join(value.splitlines())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _error(exc: BaseException) -> MailError:
    return MailError(f"{type(exc).__name__}: {exc}", _reply_code(exc))


def _reply_code(exc: BaseException) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return min(r.code for r in exc.recipients)
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) and code > 0 else None
