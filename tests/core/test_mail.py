"""core/mail: STARTTLS is never skipped, and messages reach a real SMTP server intact."""

from __future__ import annotations

import smtplib

import anyio
import pytest

from modelpilot.core.mail import MailConfig, Mailer, OutgoingMail, build_message, send_now
from tests.mail_support import body_of, smtp_inbox  # noqa: F401 (fixture)

MAIL = OutgoingMail("someone@example.com", "Hello\r\nBcc: evil@example.com", "Hi there,\nline two.\n")


def config(inbox, security: str = "none") -> MailConfig:
    return MailConfig(host="127.0.0.1", port=inbox.port, sender="ModelPilot <noreply@example.com>", security=security,
                      timeout=10)


def test_starttls_required_means_no_plain_text_fallback(smtp_inbox) -> None:
    # This server does not offer STARTTLS: the message must not go out unencrypted.
    with pytest.raises(smtplib.SMTPNotSupportedError):
        send_now(config(smtp_inbox, "starttls"), build_message(config(smtp_inbox), MAIL))
    assert smtp_inbox.messages == []


def test_mailer_delivers_in_a_thread_with_one_line_headers(smtp_inbox) -> None:
    async def run() -> None:
        await Mailer(config(smtp_inbox)).send(MAIL)

    anyio.run(run)
    message = smtp_inbox.wait_for(1)[0]
    assert message["Subject"] == "Hello Bcc: evil@example.com" and "Bcc" not in message
    assert body_of(message).replace("\r\n", "\n") == MAIL.text
    assert message["Message-ID"].endswith("@example.com>")


def test_mailer_without_config_sends_nothing() -> None:
    async def run() -> bool:
        return Mailer(None).send_later(MAIL)

    assert anyio.run(run) is False


def test_try_send_says_why_in_plain_words(smtp_inbox) -> None:
    async def run() -> str | None:
        return await Mailer(config(smtp_inbox, "starttls")).try_send(MAIL)

    assert "does not offer STARTTLS" in anyio.run(run)
    assert smtp_inbox.messages == []
