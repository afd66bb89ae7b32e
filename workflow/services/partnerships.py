"""Partnerships and their parties, due-diligence checks and background-IP declarations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..agreement_types import AGREEMENT_TYPES, default_workflow
from ..countries import is_eu_eea
from ..definitions import get_workflow, registry
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import DueDiligenceCheck, Organisation, Partnership, Party, ReferenceCounter, utcnow
from ..roles import COORDINATOR, PARTY_ROLES
from ..validation import clean_email, clean_text
from ._base import check_version, load_partnership, require_editable, require_role, write
from .clauses import default_clauses


@dataclass(frozen=True)
class PartyInput:
    organisation_id: int
    role: str
    signatory_name: str | None = None
    signatory_title: str | None = None
    signatory_email: str | None = None


def _clean_party(data: PartyInput, prefix: str, errors: dict) -> dict:
    out = {"organisation_id": data.organisation_id, "role": data.role}
    if data.role not in PARTY_ROLES:
        errors[f"{prefix}role"] = f"One of: {', '.join(PARTY_ROLES)}."
    out["signatory_name"], errors[f"{prefix}signatory_name"] = clean_text(
        data.signatory_name, max_length=120, required=False
    )
    out["signatory_title"], errors[f"{prefix}signatory_title"] = clean_text(
        data.signatory_title, max_length=120, required=False
    )
    if data.signatory_email:
        out["signatory_email"], errors[f"{prefix}signatory_email"] = clean_email(
            data.signatory_email
        )
    else:
        out["signatory_email"] = None
    return out


# An agreement's term lies within these days: a date outside them is a typing mistake, and the
# clocks counted from the end date (confidentiality, retention) stay within what a date holds.
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2199, 12, 31)


def _check_term(start_date: date | None, end_date: date | None, errors: dict) -> None:
    for key, day in (("start_date", start_date), ("end_date", end_date)):
        if day and not FIRST_DAY <= day <= LAST_DAY:
            errors[key] = f"A date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."
    if start_date and end_date and end_date < start_date and not errors.get("end_date"):
        errors["end_date"] = "The end date is before the start date."


def _raise_errors(errors: dict, detail: str) -> None:
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationFailed(detail, errors)


def next_reference(session: Session, year: int) -> str:
    """Hand out the next CP-YYYY-NNNN reference (serialised by the counter row lock)."""
    counter = session.get(ReferenceCounter, year, with_for_update=True)
    if counter is None:
        counter = ReferenceCounter(year=year, last=0)
        session.add(counter)
    counter.last += 1
    return f"CP-{year}-{counter.last:04d}"


def create_partnership(
    session: Session,
    actor,
    title: str,
    agreement_type: str,
    parties: list[PartyInput] = (),
    workflow_key: str | None = None,
    sector: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    now=None,
) -> Partnership:
    """Create a partnership in its workflow's initial stage, owned by the coordinator."""
    require_role(actor, COORDINATOR, doing="create partnerships")
    errors: dict = {}
    title, errors["title"] = clean_text(title, max_length=200)
    sector, errors["sector"] = clean_text(sector, max_length=80, required=False)
    if agreement_type not in AGREEMENT_TYPES:
        errors["agreement_type"] = f"One of: {', '.join(AGREEMENT_TYPES)}."
    else:
        workflow_key = workflow_key or default_workflow(agreement_type)
    if workflow_key not in registry():
        errors["workflow"] = f"One of: {', '.join(registry())}."
    _check_term(start_date, end_date, errors)
    cleaned = [_clean_party(p, f"parties[{i}].", errors) for i, p in enumerate(parties)]
    _check_party_set(cleaned, errors)
    _raise_errors(errors, "The partnership is not valid.")
    now = now or utcnow()
    with write(session):
        countries = _organisation_countries(session, [p["organisation_id"] for p in cleaned])
        for i, p in enumerate(cleaned):
            _check_role_fits_country(countries[p["organisation_id"]], p["role"],
                                     f"parties[{i}].role", errors)
        _raise_errors(errors, "The partnership is not valid.")
        wf = get_workflow(workflow_key)
        partnership = Partnership(
            reference=next_reference(session, now.year),
            title=title,
            workflow_key=workflow_key,
            _stage=wf.initial,
            owner_id=actor.id,
            agreement_type=agreement_type,
            sector=sector,
            start_date=start_date,
            end_date=end_date,
            stage_entered_at=now,
            created_at=now,
            updated_at=now,
        )
        partnership.parties = [Party(**p) for p in cleaned]
        partnership.checks = [DueDiligenceCheck(item_key=i.key) for i in wf.checklist]
        partnership.clauses = default_clauses(session, agreement_type)
        session.add(partnership)
        audit.record(
            session, actor, "created", partnership=partnership, to_stage=wf.initial, at=now
        )
    return partnership


def _check_party_set(parties: list[dict], errors: dict) -> None:
    orgs = [p["organisation_id"] for p in parties]
    if len(orgs) != len(set(orgs)):
        errors["parties"] = "An organisation can be a party only once."
    if sum(1 for p in parties if p["role"] == "lead") > 1:
        errors["parties"] = "Only one party can be the lead."


def _check_role_fits_country(country: str, role: str, key: str, errors: dict) -> None:
    """A party is a counterpart exactly when its organisation is outside the EU/EEA: the
    agreement's text binds "the Counterpart" and "the EU Parties" by that rule."""
    if is_eu_eea(country) and role == "counterpart":
        errors[key] = "An organisation in the EU/EEA takes part as the lead or a member."
    elif not is_eu_eea(country) and role != "counterpart":
        errors[key] = "An organisation outside the EU/EEA takes part as a counterpart."


def _organisation_countries(session: Session, org_ids: list[int]) -> dict[int, str]:
    """Organisation id -> country, in one query; ValidationFailed if one does not exist."""
    found = dict(session.execute(select(Organisation.id, Organisation.country)
                                 .where(Organisation.id.in_(org_ids))).all()) if org_ids else {}
    missing = [i for i in org_ids if i not in found]
    if missing:
        raise ValidationFailed(
            "Unknown organisation.", {"parties": f"Organisation {missing[0]} does not exist."}
        )
    return found


def add_party(
    session: Session, actor, partnership_id: int, party: PartyInput, expected_version=None
) -> Party:
    """Add an organisation as a party of an editable partnership."""
    require_role(actor, COORDINATOR, doing="add parties")
    errors: dict = {}
    cleaned = _clean_party(party, "", errors)
    _raise_errors(errors, "The party is not valid.")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        countries = _organisation_countries(session, [cleaned["organisation_id"]])
        existing = [_party_dict(p) for p in partnership.parties]
        _check_party_set([*existing, cleaned], errors)
        _check_role_fits_country(countries[cleaned["organisation_id"]], cleaned["role"], "role",
                                 errors)
        _raise_errors(errors, "The party is not valid.")
        new = Party(**cleaned)
        partnership.parties.append(new)
        partnership.touch()
        audit.record(
            session, actor, "party_added", partnership=partnership, details=_audit_party(cleaned)
        )
    return new


def update_party(
    session: Session, actor, partnership_id: int, party_id: int, party: PartyInput,
    expected_version=None,
) -> Party:
    """Change a party's role or signatory."""
    require_role(actor, COORDINATOR, doing="edit parties")
    errors: dict = {}
    cleaned = _clean_party(party, "", errors)
    _raise_errors(errors, "The party is not valid.")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        target = _find_party(partnership, party_id)
        others = [_party_dict(p) for p in partnership.parties if p.id != party_id]
        cleaned["organisation_id"] = target.organisation_id
        _check_party_set([*others, cleaned], errors)
        _check_role_fits_country(target.organisation.country, cleaned["role"], "role", errors)
        _raise_errors(errors, "The party is not valid.")
        for key, value in cleaned.items():
            setattr(target, key, value)
        partnership.touch()
        audit.record(
            session, actor, "party_updated", partnership=partnership, details=_audit_party(cleaned)
        )
    return target


def remove_party(
    session: Session, actor, partnership_id: int, party_id: int, expected_version=None
) -> None:
    """Remove a party (and its background-IP declarations) from an editable partnership."""
    require_role(actor, COORDINATOR, doing="remove parties")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        target = _find_party(partnership, party_id)
        partnership.parties.remove(target)
        partnership.touch()
        audit.record(
            session, actor, "party_removed", partnership=partnership,
            details={"organisation_id": target.organisation_id},
        )


def _find_party(partnership: Partnership, party_id: int) -> Party:
    for p in partnership.parties:
        if p.id == party_id:
            return p
    raise NotFound(f"Party {party_id} is not part of {partnership.reference}.")


def _party_dict(p: Party) -> dict:
    return {"organisation_id": p.organisation_id, "role": p.role}


def _audit_party(cleaned: dict) -> dict:
    return {k: cleaned.get(k) for k in ("organisation_id", "role", "signatory_name")}


def set_check(
    session: Session, actor, partnership_id: int, item_key: str, done: bool,
    note: str | None = None, expected_version=None, now=None,
) -> DueDiligenceCheck:
    """Mark a due-diligence checklist item done or open, with an optional note."""
    require_role(actor, COORDINATOR, doing="record due diligence")
    note, error = clean_text(note, max_length=2000, required=False, multiline=True)
    _raise_errors({"note": error}, "The note is not valid.")
    now = now or utcnow()
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        check = next((c for c in partnership.checks if c.item_key == item_key), None)
        if check is None:
            raise NotFound(f"No due-diligence item {item_key!r} in {partnership.reference}.")
        check.done, check.note = bool(done), note
        check.checked_by_id, check.checked_at = actor.id, now
        partnership.touch(now)
        audit.record(
            session, actor, "due_diligence_checked", partnership=partnership,
            details={"item": item_key, "done": bool(done)}, at=now,
        )
    return check


def declare_no_background_ip(
    session: Session, actor, partnership_id: int, party_id: int, none: bool = True,
    expected_version=None,
) -> Party:
    """Record that a party brings no background IP (or withdraw that declaration)."""
    require_role(actor, COORDINATOR, doing="declare background IP")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        party = _find_party(partnership, party_id)
        if none and party.assets:
            raise Conflict(
                f"{party.organisation.name} has listed background IP; remove it before "
                "declaring none."
            )
        party.background_none = bool(none)
        partnership.touch()
        audit.record(
            session, actor, "background_ip_declared_none" if none else "background_ip_undeclared",
            partnership=partnership, details={"party_id": party_id},
        )
    return party


def update_partnership(
    session: Session, actor, partnership_id: int, title: str, sector: str | None = None,
    start_date: date | None = None, end_date: date | None = None, expected_version=None,
) -> Partnership:
    """Change the title, sector and dates of an editable partnership."""
    require_role(actor, COORDINATOR, doing="edit partnerships")
    errors: dict = {}
    title, errors["title"] = clean_text(title, max_length=200)
    sector, errors["sector"] = clean_text(sector, max_length=80, required=False)
    _check_term(start_date, end_date, errors)
    _raise_errors(errors, "The partnership is not valid.")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        before = (partnership.title, partnership.sector, partnership.start_date,
                  partnership.end_date)
        after = (title, sector, start_date, end_date)
        if before != after:
            (partnership.title, partnership.sector, partnership.start_date,
             partnership.end_date) = after
            partnership.touch()
            audit.record(session, actor, "partnership_changed", partnership=partnership,
                         details={"title": title, "sector": sector,
                                  "start_date": str(start_date or ""),
                                  "end_date": str(end_date or "")})
    return partnership
