"""Admin edits of the country-risk data and the safeguard rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..countries import is_country
from ..errors import NotFound, ValidationFailed
from ..models import CountryRisk, RiskTier, SafeguardRule, utcnow
from ..models.risk import SEVERITIES
from ..risk import invalidate_reference
from ..roles import ADMIN
from ..validation import clean_text
from ._base import require_role, write


def set_country_risk(session: Session, actor, country: str, tier_key: str, source: str,
                     year: int, note: str | None = None) -> CountryRisk:
    """Put a country in a tier (or update its source and year)."""
    require_role(actor, ADMIN, doing="edit country risk")
    country = (country or "").strip().upper()
    errors = {}
    if not is_country(country):
        errors["country"] = "Use an ISO 3166-1 alpha-2 code."
    source, errors["source"] = clean_text(source, max_length=200)
    note, errors["note"] = clean_text(note, max_length=2000, required=False, multiline=True)
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        errors["year"] = "A year between 1990 and 2100."
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationFailed("The country-risk entry is not valid.", errors)
    with write(session):
        if session.get(RiskTier, tier_key) is None:
            raise ValidationFailed("Unknown tier.", {"tier_key": "No such tier."})
        row = session.scalar(select(CountryRisk).where(
            CountryRisk.country == country, CountryRisk.tier_key == tier_key))
        if row is None:
            row = CountryRisk(country=country, tier_key=tier_key)
            session.add(row)
        row.source, row.year, row.note, row.updated_at = source, year, note, utcnow()
        audit.record(session, actor, "country_risk_set", details={
            "country": country, "tier": tier_key, "source": source, "year": year})
    invalidate_reference()
    return row


def remove_country_risk(session: Session, actor, country: str, tier_key: str) -> None:
    """Take a country out of a tier."""
    require_role(actor, ADMIN, doing="edit country risk")
    with write(session):
        row = session.scalar(select(CountryRisk).where(
            CountryRisk.country == country.upper(), CountryRisk.tier_key == tier_key))
        if row is None:
            raise NotFound(f"{country} is not in tier {tier_key!r}.")
        session.delete(row)
        audit.record(session, actor, "country_risk_removed",
                     details={"country": country.upper(), "tier": tier_key})
    invalidate_reference()


def set_rule(session: Session, actor, rule_key: str, severity: str, active: bool
             ) -> SafeguardRule:
    """Change whether a safeguard rule blocks or warns, and whether it applies at all."""
    require_role(actor, ADMIN, doing="edit safeguard rules")
    if severity not in SEVERITIES:
        raise ValidationFailed("Unknown severity.", {"severity": "block or warn"})
    with write(session):
        rule = session.get(SafeguardRule, rule_key)
        if rule is None:
            raise NotFound(f"No safeguard rule {rule_key!r}.")
        rule.severity, rule.active = severity, bool(active)
        audit.record(session, actor, "safeguard_rule_changed", details={
            "rule": rule_key, "severity": severity, "active": bool(active)})
    invalidate_reference()
    return rule
