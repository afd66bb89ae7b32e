"""Guards: pure functions returning the reasons a transition is blocked ([] = allowed).

Workflow definitions name guards; a name missing here fails validation at load time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from .clauses import APPROVED, clause_problems, review_status, spec_of
from .countries import country_name, is_eu_eea
from .safeguards import evaluate


@dataclass(frozen=True)
class GuardContext:
    partnership: object
    actor: object
    workflow: object
    comment: str | None
    now: datetime
    # Loads country-risk data on demand (only guards about jurisdictions need it).
    risk_loader: Callable[[], object] | None = None

    def risk(self):
        if self.risk_loader is None:
            raise RuntimeError("this guard needs country-risk data; pass a risk loader")
        return self.risk_loader()


Guard = Callable[[GuardContext], list[str]]
GUARDS: dict[str, Guard] = {}
# What each guard reads of the partnership, so a transition loads exactly that up front.
GUARD_READS: dict[str, tuple[str, ...]] = {}


def guard(name: str, reads: tuple[str, ...] = ()):
    """Register a guard under `name`; `reads` names the relationships it walks."""

    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        GUARD_READS[name] = reads
        return fn

    return register


@guard("eu_party_and_counterpart", reads=("parties",))
def eu_party_and_counterpart(ctx: GuardContext) -> list[str]:
    countries = [p.organisation.country for p in ctx.partnership.parties]
    reasons = []
    if not any(is_eu_eea(c) for c in countries):
        reasons.append("Add at least one party from an EU/EEA country.")
    if not any(not is_eu_eea(c) for c in countries):
        reasons.append("Add at least one counterpart from outside the EU/EEA.")
    return reasons


@guard("signatories_complete", reads=("parties",))
def signatories_complete(ctx: GuardContext) -> list[str]:
    return [
        f"{p.organisation.name}: signatory name, title and email are required."
        for p in ctx.partnership.parties
        if not p.has_signatory
    ]


@guard("due_diligence_complete", reads=("checks",))
def due_diligence_complete(ctx: GuardContext) -> list[str]:
    done = {c.item_key for c in ctx.partnership.checks if c.done}
    return [
        f"Due diligence: '{item.label}' is not done."
        for item in ctx.workflow.checklist
        if item.key not in done
    ]


@guard("background_ip_declared", reads=("parties.assets",))
def background_ip_declared(ctx: GuardContext) -> list[str]:
    return [
        f"{p.organisation.name} ({country_name(p.organisation.country)}) has not declared its "
        "background IP (list assets or declare none)."
        for p in ctx.partnership.parties
        if not p.background_declared
    ]


@guard("approver_not_owner")
def approver_not_owner(ctx: GuardContext) -> list[str]:
    if ctx.actor.id is not None and ctx.actor.id == ctx.partnership.owner_id:
        return ["The partnership owner cannot approve it; another legal advisor must."]
    return []


@guard("end_date_passed")
def end_date_passed(ctx: GuardContext) -> list[str]:
    end: date | None = ctx.partnership.end_date
    if end is None:
        return ["The partnership has no end date."]
    if end >= ctx.now.date():
        return [f"The end date {end.isoformat()} has not passed."]
    return []


@guard("clauses_complete", reads=("clauses",))
def clauses_complete(ctx: GuardContext) -> list[str]:
    p = ctx.partnership
    if not p.clauses:
        return ["The agreement has no clauses yet: the clause library is not loaded."]
    reasons = []
    for clause in sorted(p.clauses, key=lambda c: c.library_version.sort_order):
        reasons.extend(clause_problems(clause, p.agreement_type))
    return reasons


@guard("all_clauses_approved", reads=("clauses.reviews",))
def all_clauses_approved(ctx: GuardContext) -> list[str]:
    labels = {"pending": "not reviewed yet", "changes_requested": "changes requested",
              "stale": "changed since it was approved"}
    reasons = []
    for clause in sorted(ctx.partnership.clauses, key=lambda c: c.library_version.sort_order):
        if not clause.included:
            continue
        status = review_status(clause)
        if status != APPROVED:
            title = spec_of(clause.library_version).title
            reasons.append(f"{title}: {labels[status]}.")
    return reasons


@guard("jurisdiction_safeguards", reads=("parties", "clauses", "waivers"))
def jurisdiction_safeguards(ctx: GuardContext) -> list[str]:
    return [r.message for r in evaluate(ctx.partnership, ctx.risk()) if r.blocking]


def _current_issued(partnership):
    return next((d for d in partnership.documents
                 if d.kind == "issued" and d.status == "current"), None)


@guard("issued_pdf_exists", reads=("documents",))
def issued_pdf_exists(ctx: GuardContext) -> list[str]:
    if _current_issued(ctx.partnership) is None:
        return ["No issued agreement PDF exists; it is issued when legal approves."]
    return []


@guard("all_parties_signed", reads=("parties", "documents", "signatures"))
def all_parties_signed(ctx: GuardContext) -> list[str]:
    issued = _current_issued(ctx.partnership)
    if issued is None:
        return ["No issued agreement PDF exists."]
    signed = {s.party_id for s in ctx.partnership.signatures
              if s.issued_document_id == issued.id
              and (s.kind == "wet_ink" or (s.valid and s.intact))}
    return [f"{p.organisation.name}: no verified signature on version {issued.version} yet "
            "(upload a signed copy, or record an attested wet-ink scan)."
            for p in ctx.partnership.parties if p.id not in signed]
