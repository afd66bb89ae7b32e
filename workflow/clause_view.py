"""What the clause pages show for each agreement clause (read side, no rendering)."""

from __future__ import annotations

from dataclasses import dataclass

from .clause_values import selector_matches
from .clauses import clause_problems, review_status, spec_of
from .countries import is_eu_eea
from .safeguards import RuleResult


@dataclass(frozen=True)
class ClauseRow:
    clause: object  # the AgreementClause
    key: str
    title: str
    guidance: str
    option_key: str
    option_label: str
    default_key: str
    default_label: str
    mandatory: bool
    included: bool
    negotiated: bool
    status: str
    problems: tuple[str, ...]
    hints: tuple[str, ...]
    flags: tuple[RuleResult, ...]
    library_version: int

    @property
    def is_default(self) -> bool:
        return self.option_key == self.default_key


def clause_rows(partnership, results: list[RuleResult], tiers_by_country: dict) -> list[ClauseRow]:
    """One row per clause in article order, with status, problems, hints and flags."""
    countries = sorted({p.organisation.country for p in partnership.parties
                        if not is_eu_eea(p.organisation.country)})
    rows = []
    for clause in sorted(partnership.clauses, key=lambda c: c.library_version.sort_order):
        spec = spec_of(clause.library_version)
        option = spec.option(clause.option_key)
        default = spec.default_option_for(partnership.agreement_type)
        rows.append(ClauseRow(
            clause=clause, key=spec.key, title=spec.title, guidance=spec.guidance,
            option_key=clause.option_key, option_label=option.label if option else "?",
            default_key=default.key, default_label=default.label,
            mandatory=partnership.agreement_type in spec.mandatory_for,
            included=clause.included, negotiated=bool(clause.override_text),
            status=review_status(clause),
            problems=tuple(clause_problems(clause, partnership.agreement_type)),
            hints=tuple(_hints(spec, countries, tiers_by_country)),
            flags=tuple(r for r in results if r.clause_key == spec.key),
            library_version=spec.version,
        ))
    return rows


def _hints(spec, countries: list[str], tiers_by_country: dict) -> list[str]:
    hints = []
    for country in countries:
        tiers = [t[0] for t in tiers_by_country.get(country, ())]
        for option in spec.options:
            if any(selector_matches(s, country, tiers) for s in option.required_for):
                hints.append(f"Required for {country}: {option.label}")
            elif any(selector_matches(s, country, tiers) for s in option.recommended_for):
                hints.append(f"Recommended for {country}: {option.label}")
    return hints
