"""Domain objects -> API response bodies. Reads only; what a role may see is decided here
the same way the pages decide it (staff see review status, problems and safeguards)."""

from __future__ import annotations

from flask import url_for

from workflow.clause_view import clause_rows
from workflow.countries import is_eu_eea
from workflow.definitions import get_workflow
from workflow.engine import available_transitions
from workflow.risk import load_risk
from workflow.roles import is_staff
from workflow.safeguards import evaluate
from workflow.services.review import visible_reviews

from . import outputs as o
from . import outputs_reference as r


def stage_label(p) -> str:
    state = get_workflow(p.workflow_key).state(p.stage)
    return state.label if state else p.stage


def person(user) -> r.Person | None:
    return r.Person(id=user.id, display_name=user.display_name) if user is not None else None


def organisation(org) -> r.OrganisationOut:
    return r.OrganisationOut(id=org.id, name=org.name, country=org.country, city=org.city,
                             kind=org.kind, eu_eea=is_eu_eea(org.country))


def me(user) -> r.Me:
    return r.Me(id=user.id, email=user.email, display_name=user.display_name, role=user.role,
                organisation=organisation(user.organisation) if user.organisation else None)


def token(record, current_id: int | None) -> r.TokenOut:
    return r.TokenOut(id=record.id, hint=record.hint, name=record.name,
                      created_at=record.created_at, expires_at=record.expires_at,
                      revoked_at=record.revoked_at, current=record.id == current_id)


def summary(p) -> o.PartnershipSummary:
    return o.PartnershipSummary(**_summary_fields(p))


def _summary_fields(p) -> dict:
    return dict(
        id=p.id, reference=p.reference, title=p.title, workflow=p.workflow_key,
        agreement_type=p.agreement_type, stage=p.stage, stage_label=stage_label(p),
        version=p.version, owner=person(p.owner), updated_at=p.updated_at,
        parties=[o.PartySummary(id=x.id, organisation_id=x.organisation_id,
                                name=x.organisation.name, country=x.organisation.country,
                                role=x.role) for x in p.parties])


def party(x) -> o.PartyOut:
    return o.PartyOut(
        id=x.id, organisation=organisation(x.organisation), role=x.role,
        signatory=o.Signatory(name=x.signatory_name, title=x.signatory_title,
                              email=x.signatory_email),
        background_none=x.background_none, background_declared=x.background_declared)


def review(r) -> o.ReviewOut:
    return o.ReviewOut(id=r.id, decision=r.decision, comment=r.comment,
                       visibility=r.visibility, clause_revision=r.clause_revision,
                       reviewer=person(r.reviewer), created_at=r.created_at)


def clause(row, actor) -> o.ClauseOut:
    staff = is_staff(actor.role)
    c = row.clause
    return o.ClauseOut(
        key=row.key, title=row.title, option=row.option_key, option_label=row.option_label,
        values=dict(c.values or {}), override_text=c.override_text, included=row.included,
        mandatory=row.mandatory, revision=c.revision, library_version=row.library_version,
        status=row.status if staff else None, problems=list(row.problems) if staff else None,
        reviews=[review(r) for r in visible_reviews(actor, c)])


def rows(session, p):
    """The clause rows and safeguard results of a partnership, with one risk lookup."""
    risk = load_risk(session, p)
    results = evaluate(p, risk)
    return risk, results, clause_rows(p, results, risk.tiers_by_country)


def detail(session, p, actor) -> o.PartnershipDetail:
    risk, results, clause_list = rows(session, p)
    staff = is_staff(actor.role)
    fields = _summary_fields(p)
    fields["parties"] = [party(x) for x in p.parties]
    return o.PartnershipDetail(
        **fields, sector=p.sector, start_date=p.start_date, end_date=p.end_date,
        created_at=p.created_at, stage_entered_at=p.stage_entered_at,
        clauses=[clause(r, actor) for r in clause_list],
        safeguards=[safeguard_result(r) for r in results] if staff else None,
        # Partners fire no transition, and the reasons one is blocked (due diligence, risk,
        # clause reviews) are staff matters: the page shows them none either.
        available_transitions=[
            o.TransitionOptionOut(trigger=t.trigger, label=t.label, dest=t.dest,
                                  allowed=t.allowed, reasons=list(t.reasons),
                                  requires_comment=t.requires_comment)
            for t in available_transitions(p, actor, risk_loader=lambda: risk)] if staff else [])


def safeguard_result(r) -> o.SafeguardResultOut:
    return o.SafeguardResultOut(
        rule=r.rule_key, clause=r.clause_key, country=r.country, scope=r.scope_label,
        requirement=r.requirement, severity=r.severity, met=r.met, waived=r.waived,
        blocking=r.blocking, message=r.message)


def event(e, actor) -> o.EventOut:
    """One audit event. Partners see what happened and when, as on the page; of comments and
    details only those of a review shared with partners. The rest holds staff matters:
    reasons to request changes, waivers, attestations, the due-diligence checklist."""
    details = dict(e.details) if e.details else None
    shown = is_staff(actor.role) or (details or {}).get("visibility") == "partner"
    return o.EventOut(id=e.id, occurred_at=e.occurred_at, actor=person(e.actor),
                      actor_role=e.actor_role, action=e.action, trigger=e.trigger,
                      from_stage=e.from_stage, to_stage=e.to_stage,
                      comment=e.comment if shown else None, details=details if shown else None)


def register(p) -> o.BackgroundRegister:
    return o.BackgroundRegister(partnership_version=p.version, parties=[
        o.PartyRegister(
            party_id=x.id, organisation=x.organisation.name, country=x.organisation.country,
            background_none=x.background_none, declared=x.background_declared,
            assets=[o.AssetOut.model_validate(a, from_attributes=True) for a in x.assets])
        for x in p.parties])


def due_diligence(p) -> o.DueDiligence:
    checks = {c.item_key: c for c in p.checks}
    items = []
    for item in get_workflow(p.workflow_key).checklist:
        c = checks.get(item.key)
        items.append(o.CheckOut(key=item.key, label=item.label, done=bool(c and c.done),
                                note=c.note if c else None,
                                checked_by=c.checked_by_id if c else None,
                                checked_at=c.checked_at if c else None))
    return o.DueDiligence(partnership_version=p.version, items=items)


def comment(c) -> o.CommentOut:
    return o.CommentOut(id=c.id, clause=c.clause_key, body=c.body, visibility=c.visibility,
                        author=person(c.author), created_at=c.created_at)


def document(d) -> o.DocumentOut:
    return o.DocumentOut(
        id=d.id, kind=d.kind, version=d.version, status=d.status, filename=d.filename,
        media_type=d.media_type, sha256=d.sha256, size=d.size, created_at=d.created_at,
        superseded_at=d.superseded_at, reason=d.reason,
        issued_document_id=d.issued_document_id,
        download=url_for("api.v1.download_document", partnership_id=d.partnership_id,
                         document_id=d.id))


def signed_copy(d) -> o.SignedCopyResult:
    checks = (d.details or {}).get("signatures", [])
    return o.SignedCopyResult(document=document(d), status=d.status, reason=d.reason or "",
                              signatures=[o.SignatureCheckOut(**c) for c in checks])
