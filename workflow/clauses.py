"""Reading a partnership's clauses against the library version each one is pinned to.

Library versions are stored as plain data (see services/library.py); this module turns
that data into what guards, services and pages need: options, variables, completeness and
review status. It never renders text (contracts/ does).
"""

from __future__ import annotations

from dataclasses import dataclass

from .clause_values import Variable, validate_variables, variable_from_dict

PENDING, APPROVED, CHANGES_REQUESTED, STALE = "pending", "approved", "changes_requested", "stale"


@dataclass(frozen=True)
class OptionSpec:
    key: str
    label: str
    summary: str
    text: str
    variables: tuple[Variable, ...]
    recommended_for: tuple[str, ...]
    required_for: tuple[str, ...]

    def default_values(self) -> dict:
        return {v.name: v.default for v in self.variables}


@dataclass(frozen=True)
class ClauseSpec:
    key: str
    version: int
    title: str
    category: str
    order: int
    guidance: str
    applies_to: tuple[str, ...]
    mandatory_for: tuple[str, ...]
    default_option: str
    default_for: dict
    options: tuple[OptionSpec, ...]

    def option(self, key: str) -> OptionSpec | None:
        return next((o for o in self.options if o.key == key), None)

    def default_option_for(self, agreement_type: str) -> OptionSpec:
        return self.option(self.default_for.get(agreement_type) or self.default_option)


def _option(data: dict) -> OptionSpec:
    return OptionSpec(
        key=data["key"], label=data["label"], summary=data.get("summary", ""), text=data["text"],
        variables=tuple(variable_from_dict(v) for v in data.get("variables", ())),
        recommended_for=tuple(data.get("recommended_for", ())),
        required_for=tuple(data.get("required_for", ())),
    )


_SPECS: dict[tuple[int, str], ClauseSpec] = {}


def spec_of(library_version) -> ClauseSpec:
    """The clause spec of a stored library version (versions never change: cached)."""
    key = (library_version.id, library_version.content_hash)
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) > 2048:
            _SPECS.clear()
        spec = _SPECS[key] = _build_spec(library_version.version, library_version.data)
    return spec


def _build_spec(version: int, data: dict) -> ClauseSpec:
    return ClauseSpec(
        key=data["key"], version=version, title=data["title"], category=data["category"],
        order=data["order"], guidance=data.get("guidance", ""),
        applies_to=tuple(data["applies_to"]), mandatory_for=tuple(data["mandatory_for"]),
        default_option=data["default_option"], default_for=dict(data.get("default_for", {})),
        options=tuple(_option(o) for o in data["options"]),
    )


def clause_problems(agreement_clause, agreement_type: str) -> list[str]:
    """Say what is missing or invalid in one agreement clause ([] when complete)."""
    spec = spec_of(agreement_clause.library_version)
    if not agreement_clause.included:
        if agreement_type in spec.mandatory_for:
            return [f"{spec.title}: this clause is mandatory and must be included."]
        return []
    option = spec.option(agreement_clause.option_key)
    if option is None:
        return [f"{spec.title}: choose an option."]
    _clean, errors = validate_variables(option, agreement_clause.values or {})
    return [f"{spec.title}: {message}." for _name, message in sorted(errors.items())]


def review_status(agreement_clause) -> str:
    """pending, approved, changes_requested, or stale (approved, then changed).

    A clause changed after a change request is pending again: it awaits a new review.
    """
    if not agreement_clause.reviews:
        return PENDING
    last = agreement_clause.reviews[-1]
    if last.clause_revision != agreement_clause.revision:
        return STALE if last.decision == "approve" else PENDING
    return APPROVED if last.decision == "approve" else CHANGES_REQUESTED
