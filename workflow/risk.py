"""Loading country-risk data and evaluating a partnership's safeguards from the database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .countries import is_eu_eea
from .models import CountryRisk, SafeguardRule, SafeguardWaiver
from .safeguards import RiskData, RuleResult, evaluate


def load_risk(session: Session, partnership) -> RiskData:
    """The tiers of the partnership's counterparts, the active rules and its waivers."""
    countries = {p.organisation.country for p in partnership.parties
                 if not is_eu_eea(p.organisation.country)}
    tiers: dict[str, list] = {}
    if countries:
        for cr in session.scalars(select(CountryRisk).where(CountryRisk.country.in_(countries))):
            tiers.setdefault(cr.country, []).append(
                (cr.tier_key, cr.tier.label, cr.tier.source, cr.year))
    rules = list(session.scalars(
        select(SafeguardRule).where(SafeguardRule.active.is_(True)).order_by(SafeguardRule.key)))
    waived = set()
    if partnership.id is not None:
        waived = set(session.scalars(select(SafeguardWaiver.rule_key).where(
            SafeguardWaiver.partnership_id == partnership.id)))
    return RiskData(tiers, rules, waived)


def safeguard_results(session: Session, partnership) -> list[RuleResult]:
    """Evaluate every applicable safeguard rule for the partnership."""
    return evaluate(partnership, load_risk(session, partnership))


def tiers_of(session: Session, country: str) -> list[CountryRisk]:
    """The risk tiers a country is in, with source and year."""
    return list(session.scalars(select(CountryRisk).where(CountryRisk.country == country)))
