"""Email: the only module that imports aiosmtplib. Messages are sent in the background after the change
that asked for them has committed, so a slow or absent mail server never slows a request (nor tells a
caller, by its timing, whether an address has an account). Without SMTP_HOST nothing is sent."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage

import aiosmtplib

from server.settings import MailSettings

log = logging.getLogger("server.mail")


class Mailer:
    def __init__(self, settings: MailSettings | None) -> None:
        self.settings = settings
        self._sending: set[asyncio.Task[None]] = set()

    def send_later(self, to: str, subject: str, text: str) -> None:
        """Send a plain-text message in the background; failures are logged (without the address)."""
        if self.settings is None:
            log.info("mail not sent (%s): SMTP_HOST is not set", subject)
            return
        task = asyncio.create_task(self._send(to, subject, text))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, to: str, subject: str, text: str) -> None:
        assert self.settings is not None
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.settings.host,
                port=self.settings.port,
                username=self.settings.username,
                password=self.settings.password,
                start_tls=self.settings.starttls,
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail not sent (%s): %s", subject, type(exc).__name__)

    async def close(self) -> None:
        """Wait for messages being sent, for up to 30 seconds."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=30)
