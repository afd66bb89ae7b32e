"""Jurisdiction safeguards: rules as data, evaluated against a partnership's clauses.

A rule applies when a counterpart (a party outside the EU/EEA) is in the rule's tier or
country and the agreement type has the rule's clause. It is met when the clause is included
and one of the rule's `satisfied_by` alternatives matches the chosen option and values.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clauses import spec_of
from .countries import country_name, is_eu_eea


@dataclass(frozen=True)
class RuleResult:
    rule_key: str
    clause_key: str
    clause_title: str
    country: str
    scope_label: str  # e.g. "Priority Watch List, USTR Special 301, 2025"
    requirement: str
    severity: str
    met: bool
    waived: bool

    @property
    def blocking(self) -> bool:
        return self.severity == "block" and not self.met and not self.waived

    @property
    def message(self) -> str:
        requirement = self.requirement.replace("{country}", self.country)
        return (f"{self.clause_title}: counterpart in {self.country} ({self.scope_label}) "
                f"{requirement}.")


class RiskData:
    """What the rules need from the database, loaded once per evaluation."""

    def __init__(self, tiers_by_country: dict, rules: list, waived: set[str]) -> None:
        self.tiers_by_country = tiers_by_country  # country -> [(tier_key, label, source, year)]
        self.rules = rules
        self.waived = waived


def _matches(alternative: dict, clause, counterpart_country: str) -> bool:
    if alternative.get("option") != clause.option_key:
        return False
    values = clause.values or {}
    for name, expected in (alternative.get("values") or {}).items():
        if values.get(name) != expected:
            return False
    seat_var = alternative.get("not_counterpart_country")
    if seat_var:
        seat = str(values.get(seat_var) or "").upper()
        if not seat or seat == counterpart_country:
            return False
    return True


def evaluate(partnership, risk: RiskData) -> list[RuleResult]:
    """Every applicable rule for every counterpart, met or not."""
    clauses = {c.clause_key: c for c in partnership.clauses}
    results = []
    counterparts = sorted({p.organisation.country for p in partnership.parties
                           if not is_eu_eea(p.organisation.country)})
    for country in counterparts:
        for rule in risk.rules:
            scope = _scope(rule, country, risk)
            if scope is None:
                continue
            clause = clauses.get(rule.clause_key)
            if clause is None:
                continue  # this agreement type has no such clause
            spec = spec_of(clause.library_version)
            met = clause.included and any(
                _matches(alt, clause, country) for alt in rule.satisfied_by)
            results.append(RuleResult(
                rule_key=rule.key, clause_key=rule.clause_key, clause_title=spec.title,
                country=country, scope_label=scope, requirement=rule.requirement,
                severity=rule.severity, met=met, waived=rule.key in risk.waived,
            ))
    return results


def _scope(rule, country: str, risk: RiskData) -> str | None:
    if rule.country:
        return country_name(country) if rule.country == country else None
    for tier_key, label, source, year in risk.tiers_by_country.get(country, ()):
        if tier_key == rule.tier_key:
            return f"{label}, {source}, {year}"
    return None
