"""Country risk as data: tiers with source and year, safeguard rules, per-partnership waivers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .types import JSONText, UTCDateTime, in_values, utcnow

SEVERITIES = ("block", "warn")


class RiskTier(Base):
    """A named list of countries, e.g. the USTR Special 301 Priority Watch List."""

    __tablename__ = "risk_tiers"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)


class CountryRisk(Base):
    """A country's membership of a tier, with the source and year that put it there."""

    __tablename__ = "country_risks"
    __table_args__ = (
        UniqueConstraint("country", "tier_key"),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    tier_key: Mapped[str] = mapped_column(ForeignKey("risk_tiers.key", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tier: Mapped[RiskTier] = relationship(lazy="joined")


class SafeguardRule(Base):
    """What a clause must say when a counterpart is in a tier or country.

    `satisfied_by` lists alternatives, each {"option": key, "values": {...}?,
    "not_counterpart_country": variable?}; the clause meets the rule when one matches.
    """

    __tablename__ = "safeguard_rules"
    __table_args__ = (
        CheckConstraint(in_values("severity", SEVERITIES), name="severity_valid"),
        CheckConstraint("tier_key IS NOT NULL OR country IS NOT NULL", name="has_scope"),
    )

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    tier_key: Mapped[str | None] = mapped_column(ForeignKey("risk_tiers.key", ondelete="CASCADE"))
    country: Mapped[str | None] = mapped_column(String(2))
    clause_key: Mapped[str] = mapped_column(String(60))
    satisfied_by: Mapped[list] = mapped_column(JSONText)
    requirement: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    tier: Mapped[RiskTier | None] = relationship(lazy="joined")


class SafeguardWaiver(Base):
    """A legal advisor lifting one blocking rule for one partnership, with a reason."""

    __tablename__ = "safeguard_waivers"
    __table_args__ = (UniqueConstraint("partnership_id", "rule_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    rule_key: Mapped[str] = mapped_column(ForeignKey("safeguard_rules.key", ondelete="RESTRICT"))
    waived_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    waived_by = relationship("User")
