"""Choosing clause options and variables, and rebasing onto a newer library version."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .. import audit
from ..clause_values import to_json, validate_variables
from ..clauses import spec_of
from ..errors import NotFound, ValidationFailed
from ..models import AgreementClause, Partnership, utcnow
from ..roles import COORDINATOR
from ..validation import clean_text
from ._base import check_version, load_partnership, require_editable, require_role, write
from .library import latest_versions

MAX_OVERRIDE = 20_000


def default_clauses(session: Session, agreement_type: str) -> list[AgreementClause]:
    """New clause rows for an agreement type: latest versions, default options and values."""
    rows = []
    for version in sorted(latest_versions(session).values(), key=lambda v: v.sort_order):
        spec = spec_of(version)
        if agreement_type not in spec.applies_to:
            continue
        option = spec.default_option_for(agreement_type)
        rows.append(AgreementClause(
            clause_key=spec.key, library_version=version, option_key=option.key,
            values=option.default_values(), included=True, revision=1))
    return rows


def find_clause(partnership: Partnership, clause_key: str) -> AgreementClause:
    """The partnership's clause with this key, or NotFound."""
    for clause in partnership.clauses:
        if clause.clause_key == clause_key:
            return clause
    raise NotFound(f"{partnership.reference} has no clause {clause_key!r}.")


def set_clause(
    session: Session, actor, partnership_id: int, clause_key: str, option_key: str,
    values: dict, override_text: str | None = None, included: bool = True,
    expected_version: int | None = None,
) -> AgreementClause:
    """Choose an option and its variable values (and an optional negotiated override)."""
    require_role(actor, COORDINATOR, doing="choose clause options")
    override, error = clean_text(override_text, max_length=MAX_OVERRIDE, required=False,
                                 multiline=True)
    if error:
        raise ValidationFailed("The negotiated text is not valid.", {"override_text": error})
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        clause = find_clause(partnership, clause_key)
        spec = spec_of(clause.library_version)
        option = spec.option(option_key)
        if option is None:
            raise ValidationFailed(f"{spec.title} has no option {option_key!r}.",
                                   {"option": "Choose one of the listed options."})
        if not included and partnership.agreement_type in spec.mandatory_for:
            raise ValidationFailed(f"{spec.title} is mandatory.", {"included": "Mandatory."})
        clean, errors = validate_variables(option, values or {})
        if errors:
            raise ValidationFailed(f"{spec.title}: some values are not valid.", errors)
        stored = {k: to_json(v) for k, v in clean.items()}
        new = (option_key, stored, override, bool(included))
        if new != (clause.option_key, clause.values, clause.override_text, clause.included):
            clause.option_key, clause.values, clause.override_text, clause.included = new
            _changed(partnership, clause, actor)
            audit.record(session, actor, "clause_changed", partnership=partnership,
                         details={"clause": clause_key, "option": option_key,
                                  "override": override is not None, "included": included,
                                  "revision": clause.revision})
    return clause


def _changed(partnership: Partnership, clause: AgreementClause, actor) -> None:
    """Every change makes earlier reviews of the clause stale."""
    clause.revision += 1
    clause.updated_at = utcnow()
    clause.updated_by_id = actor.id
    partnership.touch()


@dataclass(frozen=True)
class RebaseChange:
    clause_key: str
    title: str
    from_version: int | None
    to_version: int
    option_kept: bool
    old_text: str
    new_text: str


def rebase_plan(session: Session, partnership: Partnership) -> list[RebaseChange]:
    """What rebasing onto the latest library would change (read only)."""
    latest = latest_versions(session)
    current = {c.clause_key: c for c in partnership.clauses}
    changes = []
    for key, version in sorted(latest.items(), key=lambda kv: kv[1].sort_order):
        new_spec = spec_of(version)
        if partnership.agreement_type not in new_spec.applies_to:
            continue
        clause = current.get(key)
        if clause is not None and clause.library_version_id == version.id:
            continue
        old_option = spec_of(clause.library_version).option(clause.option_key) if clause else None
        new_option = new_spec.option(clause.option_key) if clause else None
        changes.append(RebaseChange(
            clause_key=key, title=new_spec.title,
            from_version=clause.library_version.version if clause else None,
            to_version=version.version, option_kept=new_option is not None,
            old_text=old_option.text if old_option else "",
            new_text=(new_option or new_spec.default_option_for(partnership.agreement_type)).text,
        ))
    return changes


def rebase(session: Session, actor, partnership_id: int, expected_version: int | None = None
           ) -> list[RebaseChange]:
    """Move every clause to the latest library version, keeping choices that still fit."""
    require_role(actor, COORDINATOR, doing="rebase clauses")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        plan = rebase_plan(session, partnership)
        latest = latest_versions(session)
        current = {c.clause_key: c for c in partnership.clauses}
        for change in plan:
            version = latest[change.clause_key]
            spec = spec_of(version)
            clause = current.get(change.clause_key)
            if clause is None:
                option = spec.default_option_for(partnership.agreement_type)
                partnership.clauses.append(AgreementClause(
                    clause_key=spec.key, library_version=version, option_key=option.key,
                    values=option.default_values(), included=True, revision=1))
                continue
            option = spec.option(clause.option_key) or spec.default_option_for(
                partnership.agreement_type)
            kept = {k: v for k, v in (clause.values or {}).items()
                    if k in {var.name for var in option.variables}}
            clean, errors = validate_variables(option, kept)
            values = {**option.default_values(), **{k: to_json(v) for k, v in clean.items()
                                                    if k not in errors}}
            clause.library_version, clause.option_key, clause.values = version, option.key, values
            _changed(partnership, clause, actor)
        if plan:
            partnership.touch()
            audit.record(session, actor, "clauses_rebased", partnership=partnership, details={
                "clauses": {c.clause_key: [c.from_version, c.to_version] for c in plan}})
    return plan
