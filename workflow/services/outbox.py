"""The relay: deliver pending notifications by email, with retry, backoff and leases.

A batch is claimed in a short transaction: each row's attempt is counted and its
`next_attempt_at` moved to the end of a lease, so another relay leaves it alone (on
PostgreSQL the claim also skips rows locked by a concurrent claim; SQLite serialises
writers). Messages are sent outside any transaction, then each row is marked. A relay that
dies between send and mark leaves the row pending; when the lease ends it is sent again with
the same Message-ID (derived from the row id), so a crash yields at most one duplicate that
mail clients recognise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..db import begin_write
from ..mail import PermanentFailure
from ..models import Notification, NotificationPreference, User, utcnow
from ..notifications import single_line


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class RelaySettings:
    mail_from: str
    base_url: str
    max_attempts: int = 8
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=10)
    batch_size: int = 50


@dataclass
class RelayReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    """What the relay needs of a claimed row, read inside the claim transaction."""

    id: int
    address: str
    name: str | None
    subject: str
    body: str
    link: str | None
    created_at: datetime
    attempts: int
    for_user: bool


def backoff(attempts: int, settings: RelaySettings) -> timedelta:
    """The wait after the `attempts`-th failed attempt: doubling, capped."""
    return min(settings.first_delay * (2 ** max(attempts - 1, 0)), settings.max_delay)


def _email_off(session: Session, rows: list[Notification]) -> set[tuple[int, str]]:
    keys = {(r.user_id, r.kind) for r in rows if r.user_id is not None}
    if not keys:
        return set()
    return set(tuple(row) for row in session.execute(
        select(NotificationPreference.user_id, NotificationPreference.kind).where(
            tuple_(NotificationPreference.user_id, NotificationPreference.kind).in_(list(keys)),
            NotificationPreference.email.is_(False))).all())


def claim(session: Session, settings: RelaySettings,
          now: datetime) -> tuple[list[Claimed], int]:
    """Claim due pending rows for one batch; rows nobody should receive become skipped.

    Returns the claimed rows and how many were skipped.
    """
    begin_write(session)
    try:
        rows = list(session.scalars(
            select(Notification)
            .where(Notification.email_status == "pending",
                   Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(settings.batch_size)
            .with_for_update(skip_locked=True)))
        users = {u.id: u for u in session.scalars(select(User).where(
            User.id.in_({r.user_id for r in rows if r.user_id is not None})))}
        off = _email_off(session, rows)
        claimed, skipped = [], 0
        for row in rows:
            user = users.get(row.user_id) if row.user_id is not None else None
            if row.user_id is not None and (
                    user is None or not user.active or (row.user_id, row.kind) in off):
                row.email_status, row.last_error = "skipped", None
                skipped += 1
                continue
            row.attempts += 1
            row.next_attempt_at = now + settings.lease
            claimed.append(Claimed(
                id=row.id, address=user.email if user else row.to_email,
                name=user.display_name if user else None, subject=row.subject, body=row.body,
                link=row.link, created_at=row.created_at, attempts=row.attempts,
                for_user=user is not None))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return claimed, skipped


def message_domain(mail_from: str) -> str:
    """The domain used in Message-IDs: the sender address's, else a local placeholder."""
    _, address = parseaddr(mail_from)
    domain = address.rpartition("@")[2]
    return domain if domain and all(c.isalnum() or c in ".-" for c in domain) else "localhost"


def message_id(notification_id: int, mail_from: str) -> str:
    """The Message-ID of a notification: fixed by its id, the same on every resend."""
    return f"<notification-{notification_id}@{message_domain(mail_from)}>"


def build_message(item: Claimed, settings: RelaySettings) -> EmailMessage:
    """Build the email of one claimed row; header values cannot carry CR or LF."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    local, _, domain = item.address.partition("@")
    msg["To"] = Address(display_name=single_line(item.name or "", 120),
                        username=local, domain=domain)
    msg["Subject"] = single_line(item.subject)
    msg["Date"] = format_datetime(item.created_at)
    msg["Message-ID"] = message_id(item.id, settings.mail_from)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    text = item.body.rstrip("\n") + "\n"
    if item.for_user:
        if item.link:
            text += f"\nOpen it in ClusterPact: {settings.base_url}{item.link}\n"
        text += ("\nYou can turn these emails off in your notification settings: "
                 f"{settings.base_url}/notifications/preferences\n")
    msg.set_content(text)
    return msg


def _mark(session: Session, item: Claimed, settings: RelaySettings, now: datetime,
          error: Exception | None) -> str:
    begin_write(session)
    try:
        row = session.get(Notification, item.id, populate_existing=True)
        if error is None:
            row.email_status, row.sent_at, row.last_error = "sent", now, None
        else:
            row.last_error = single_line(f"{type(error).__name__}: {error}", 500)
            if isinstance(error, PermanentFailure) or row.attempts >= settings.max_attempts:
                row.email_status = "failed"
            else:
                row.next_attempt_at = now + backoff(row.attempts, settings)
        status = "sent" if error is None else row.email_status
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return status


def deliver_pending(session: Session, sender: Sender, settings: RelaySettings,
                    clock: Callable[[], datetime] = utcnow) -> RelayReport:
    """Send every notification that is due now, batch by batch; return what happened."""
    report = RelayReport()
    while True:
        batch, skipped = claim(session, settings, clock())
        report.skipped += skipped
        if not batch and not skipped:
            return report
        for item in batch:
            try:
                sender.send(build_message(item, settings))
            except Exception as exc:  # any delivery error is recorded on the row and retried
                status = _mark(session, item, settings, clock(), exc)
                report.errors.append(f"notification {item.id}: {exc}")
                if status == "failed":
                    report.failed += 1
                else:
                    report.retrying += 1
            else:
                _mark(session, item, settings, clock(), None)
                report.sent += 1
