"""The notification outbox and per-user email preferences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .core import User
from .types import UTCDateTime, in_values, utcnow

EMAIL_STATUSES = ("pending", "sent", "failed", "skipped")


class Notification(Base):
    """One message to one person, written in the transaction of the change it reports.

    A row is for a user (in-app and email) or, when the person has no account (a party's
    signatory), for an email address only (`to_email`, no in-app copy). The relay delivers
    rows by email; `id` is the Message-ID, so a resend after a crash is recognisable.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(in_values("email_status", EMAIL_STATUSES), name="email_status_valid"),
        CheckConstraint(
            "(user_id IS NULL) <> (to_email IS NULL)", name="one_recipient"
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # A dedupe key is sent once per recipient: what makes scheduled reminders idempotent.
        UniqueConstraint("user_id", "dedupe_key"),
        UniqueConstraint("to_email", "dedupe_key"),
        # The relay reads pending rows by due time; the bell counts unread rows of one user.
        Index("ix_notifications_email_status_next_attempt_at", "email_status", "next_attempt_at"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    to_email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(60))
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the relay may (re)try; while a relay holds the row it is the end of its lease.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        who = self.user_id if self.user_id is not None else self.to_email
        return f"<Notification {self.id} {self.kind} to {who} {self.email_status}>"


class NotificationPreference(Base):
    """A user's choice of email for one kind; no row means email on."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
