"""Sending email over SMTP (stdlib smtplib): one connection reused for a batch."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx reply): retrying will not help."""


class SmtpSender:
    """Deliver messages to one SMTP server; connects on first send, reconnects after errors.

    Use as a context manager so the connection is closed at the end of a batch.
    """

    def __init__(self, host: str, port: int, *, username: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 15.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send one message; raise PermanentFailure on a 5xx refusal, OSError-like on others."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            self.close()
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {codes}") from exc
            raise
        except smtplib.SMTPDataError as exc:
            # The server refused this message's content; a refused sender (MAIL_FROM) or
            # login is a setting to fix, so those stay retryable.
            self.close()
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        except BaseException:
            self.close()
            raise
        if refused:  # only with several recipients; each message here has one
            raise PermanentFailure(f"recipient refused: {refused}")

    def close(self) -> None:
        """Close the connection, if any (errors on quit are irrelevant by then)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
