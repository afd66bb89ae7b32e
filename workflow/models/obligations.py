"""IPR clocks after activation: obligations, publications and objections, calendar feeds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..obligations import OBLIGATION_KINDS, OBLIGATION_STATUSES
from .core import Partnership, Party, User
from .types import JSONText, UTCDateTime, in_values, utcnow

PUBLICATION_STATUSES = ("pending", "objected", "cleared")


class Publication(Base):
    """A party's notice of an intended publication; the other parties may object."""

    __tablename__ = "publications"
    __table_args__ = (
        CheckConstraint(in_values("status", PUBLICATION_STATUSES), name="status_valid"),
        CheckConstraint("max_delay_days >= 1", name="max_delay_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"),
                                          index=True)
    title: Mapped[str] = mapped_column(String(300))
    venue: Mapped[str | None] = mapped_column(String(300))
    planned_on: Mapped[date] = mapped_column(Date)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    objection_deadline: Mapped[date] = mapped_column(Date)
    max_delay_days: Mapped[int] = mapped_column(Integer)
    # Set by the first objection: the publication may proceed at the latest on this day.
    latest_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending")

    partnership: Mapped[Partnership] = relationship()
    party: Mapped[Party] = relationship()
    registered_by: Mapped[User] = relationship()
    objections: Mapped[list[PublicationObjection]] = relationship(
        back_populates="publication", cascade="all, delete-orphan",
        order_by="PublicationObjection.id")


class PublicationObjection(Base):
    """One party's objection to a publication, with the change it asks for."""

    __tablename__ = "publication_objections"
    __table_args__ = (UniqueConstraint("publication_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"),
                                          index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(Text)
    requested_change: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    publication: Mapped[Publication] = relationship(back_populates="objections")
    party: Mapped[Party] = relationship()
    raised_by: Mapped[User] = relationship()


class Obligation(Base):
    """One running clock of an active partnership: a due date, an owner and a status.

    The owner is a user (the coordinator who runs the partnership), a party, or, when both
    are empty, every party alike. `reminded_lead` is the smallest lead time (days before the
    due date) already reminded, so each lead time is reminded once.
    """

    __tablename__ = "obligations"
    __table_args__ = (
        CheckConstraint(in_values("kind", OBLIGATION_KINDS), name="kind_valid"),
        CheckConstraint(in_values("status", OBLIGATION_STATUSES), name="status_valid"),
        UniqueConstraint("partnership_id", "key"),
        # run-clocks reads open obligations by due date, every minute.
        Index("ix_obligations_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    owner_party_id: Mapped[int | None] = mapped_column(
        ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    publication_id: Mapped[int | None] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    details: Mapped[dict | None] = mapped_column(JSONText)
    reminded_lead: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partnership: Mapped[Partnership] = relationship()
    owner_user: Mapped[User | None] = relationship()
    owner_party: Mapped[Party | None] = relationship()
    publication: Mapped[Publication | None] = relationship()

    def days_left(self, today: date) -> int:
        """Days from `today` to the due date (negative once past)."""
        return (self.due_on - today).days


class CalendarFeed(Base):
    """A user's secret calendar (.ics) address; only the sha256 of its token is stored."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
