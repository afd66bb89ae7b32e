"""Core persistent objects: organisations, users, partnerships, parties, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from ..roles import ASSET_TYPES, ORG_KINDS, PARTY_ROLES, USER_ROLES
from .types import JSONText, UTCDateTime, in_values, utcnow

if TYPE_CHECKING:
    from .clauses import AgreementClause
    from .documents import Document, Signature
    from .risk import SafeguardWaiver


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(in_values("kind", ORG_KINDS), name="kind_valid"),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.country}>"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(in_values("role", USER_ROLES), name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the login identity; rotating it revokes every session cookie of the user.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second factor: the TOTP secret, encrypted (workflow.totp.SecretBox); pending until the
    # user confirms a code (totp_enabled_at). The last accepted time step makes codes single-use.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    @property
    def totp_enabled(self) -> bool:
        """Tell whether logging in needs a second factor."""
        return self.totp_enabled_at is not None and self.totp_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class ReferenceCounter(Base):
    """Last reference number handed out per year (CP-2026-0042)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Partnership(Base):
    __tablename__ = "partnerships"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="dates_ordered",
        ),
        Index("ix_partnerships_stage_updated_at", "stage", "updated_at"),
        Index("ix_partnerships_owner_id_stage", "owner_id", "stage"),
        # Keyset pages and dashboards read in these orders and stop after a page.
        Index("ix_partnerships_updated_at_id", "updated_at", "id"),
        Index("ix_partnerships_created_at_id", "created_at", "id"),
        Index("ix_partnerships_stage_entered_at_id", "stage_entered_at", "id"),
        Index("ix_partnerships_owner_id_stage_entered_at", "owner_id", "stage_entered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    workflow_key: Mapped[str] = mapped_column(String(60))
    # The stage is written only by the workflow engine (see `stage` below).
    _stage: Mapped[str] = mapped_column("stage", String(40))
    version: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    agreement_type: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str | None] = mapped_column(String(80))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded on first access only: a transition loads what its guards read, nothing more.
    # Pages that show lists ask for eager loading explicitly (workflow.queries).
    owner: Mapped[User] = relationship()
    parties: Mapped[list[Party]] = relationship(
        back_populates="partnership",
        cascade="all, delete-orphan",
        order_by="Party.id",
    )
    checks: Mapped[list[DueDiligenceCheck]] = relationship(
        cascade="all, delete-orphan", order_by="DueDiligenceCheck.id"
    )
    clauses: Mapped[list[AgreementClause]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementClause.id"
    )
    waivers: Mapped[list[SafeguardWaiver]] = relationship(
        cascade="all, delete-orphan", order_by="SafeguardWaiver.id"
    )
    documents: Mapped[list[Document]] = relationship(
        order_by="Document.id", viewonly=True)
    signatures: Mapped[list[Signature]] = relationship(
        order_by="Signature.id", viewonly=True)

    # Every committed change bumps the version; a writer holding an older version loses.
    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def stage(self) -> str:
        """The current stage; read-only outside the workflow engine."""
        return self._stage

    @stage.inplace.expression
    @classmethod
    def _stage_expression(cls):
        return cls._stage

    def touch(self, now: datetime | None = None) -> None:
        """Mark the partnership changed so its version bumps with the change."""
        self.updated_at = now or utcnow()

    def __repr__(self) -> str:
        return f"<Partnership {self.reference} {self._stage} v{self.version}>"


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint(in_values("role", PARTY_ROLES), name="role_valid"),
        UniqueConstraint("partnership_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    signatory_name: Mapped[str | None] = mapped_column(String(120))
    signatory_title: Mapped[str | None] = mapped_column(String(120))
    signatory_email: Mapped[str | None] = mapped_column(String(254))
    # Explicit declaration that the party brings no background IP (Annex 1 stays empty).
    background_none: Mapped[bool] = mapped_column(Boolean, default=False)

    partnership: Mapped[Partnership] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    assets: Mapped[list[BackgroundAsset]] = relationship(
        back_populates="party",
        cascade="all, delete-orphan",
        order_by="BackgroundAsset.id",
    )

    @property
    def has_signatory(self) -> bool:
        return bool(self.signatory_name and self.signatory_title and self.signatory_email)

    @property
    def background_declared(self) -> bool:
        return self.background_none or bool(self.assets)


class BackgroundAsset(Base):
    """One line of Annex 1: background IP a party brings and the terms of access to it."""

    __tablename__ = "background_assets"
    __table_args__ = (
        CheckConstraint(in_values("asset_type", ASSET_TYPES), name="asset_type_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    asset_type: Mapped[str] = mapped_column(String(20))
    identifiers: Mapped[str | None] = mapped_column(String(400))
    jurisdictions: Mapped[str | None] = mapped_column(String(400))
    restrictions: Mapped[str | None] = mapped_column(Text)
    access_implementation: Mapped[str | None] = mapped_column(Text)
    access_exploitation: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    party: Mapped[Party] = relationship(back_populates="assets")


class DueDiligenceCheck(Base):
    """State of one due-diligence checklist item (items are defined by the workflow)."""

    __tablename__ = "due_diligence_checks"
    __table_args__ = (UniqueConstraint("partnership_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(60))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


AUDIT_OUTCOMES = ("success", "failed", "denied", "rejected")


class AuditEvent(Base):
    """Append-only record of a state change or security-relevant action."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_partnership_id_id", "partnership_id", "id"),
        CheckConstraint(in_values("outcome", AUDIT_OUTCOMES), name="outcome_valid"),
    )
    # One INSERT per row, in order: ids then follow the chain's sequence (audit_chain.py).
    __mapper_args__ = {"batch": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="RESTRICT")
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    trigger: Mapped[str | None] = mapped_column(String(60))
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSONText)
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # The hash chain, assigned while the row is inserted (workflow/models/audit_chain.py).
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()
    partnership: Mapped[Partnership | None] = relationship()
