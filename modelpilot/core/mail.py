"""Sending e-mail over SMTP without blocking the event loop.

smtplib blocks, so every message goes out in a worker thread. Callers normally hand a message
to `Mailer.send_later`: the request that caused it (a password reset, an invitation) answers at
once, and a reset request takes the same time whether or not the address has an account.
A message that cannot be delivered is logged (never with its body: it holds one-time links).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Coroutine

import anyio

log = logging.getLogger("modelpilot.mail")
SECURITY_MODES = ("starttls", "tls", "none")


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    security: str = "starttls"  # one of SECURITY_MODES
    timeout: float = 20.0


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str


def _one_line(value: str) -> str:
    # Subjects carry user-chosen names (a workspace); a line break there would start a new header.
    return " ".join(value.split())


def build_message(config: MailConfig, mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = _one_line(mail.to)
    message["Subject"] = _one_line(mail.subject)
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    return message


def send_now(config: MailConfig, message: EmailMessage) -> None:
    """Blocking delivery of one message; raises smtplib.SMTPException or OSError on failure."""
    context = ssl.create_default_context()
    if config.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        if config.security == "starttls":
            # Raises when the server does not offer STARTTLS: never fall back to plain text,
            # which would hand the password and one-time links to anyone on the path.
            client.starttls(context=context)
        if config.username:
            client.login(config.username, config.password)
        client.send_message(message)


def describe_failure(exc: Exception) -> str:
    """A sentence for an admin: what went wrong talking to the SMTP server."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the mail server does not offer STARTTLS (set MODELPILOT_SMTP_SECURITY if that is intended)"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the mail server refused the SMTP user name or password"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the mail server refused the recipient address"
    if isinstance(exc, smtplib.SMTPException):  # a subclass of OSError: checked before it
        return f"the mail server answered with an error ({exc})"
    if isinstance(exc, OSError):
        return f"cannot reach the mail server ({exc.strerror or exc or 'timed out'})"
    return f"the message could not be built ({exc})"


class Mailer:
    """Delivers mail in threads (two at most); a Mailer without config is switched off."""

    def __init__(self, config: MailConfig | None) -> None:
        self.config = config
        self._limiter = anyio.CapacityLimiter(2)
        self._pending: set[asyncio.Task] = set()

    @property
    def configured(self) -> bool:
        return self.config is not None

    async def send(self, mail: OutgoingMail) -> None:
        if self.config is None:
            raise RuntimeError("e-mail is not configured")
        message = build_message(self.config, mail)
        await anyio.to_thread.run_sync(send_now, self.config, message, limiter=self._limiter)

    async def try_send(self, mail: OutgoingMail) -> str | None:
        """Send now (in a thread); None when the server took it, else why not, in plain words."""
        try:
            await self.send(mail)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            log.warning("e-mail to %s (%s) could not be sent: %s", mail.to, _one_line(mail.subject), exc)
            return describe_failure(exc)
        log.info("e-mail sent to %s (%s)", mail.to, _one_line(mail.subject))
        return None

    def send_later(self, mail: OutgoingMail) -> bool:
        """Queue delivery in the background; False (and nothing sent) when mail is off."""
        if self.config is None:
            return False
        self.in_background(self.try_send(mail))
        return True

    def in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run work that ends in a mail after the response (kept referenced, drained at shutdown)."""
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background e-mail work failed", exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """On shutdown: give queued messages a moment to leave, then give up on them."""
        if not self._pending:
            return
        done, pending = await asyncio.wait(set(self._pending), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%d e-mail(s) still unsent at shutdown", len(pending))
