"""Partnership pages. Each write: validate the form, call one service, flash, redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from workflow import listing, queries
from workflow.agreement_types import AGREEMENT_TYPES
from workflow.clause_view import clause_rows
from workflow.countries import all_countries, is_eu_eea
from workflow.definitions import get_workflow, registry
from workflow.engine import available_transitions
from workflow.errors import ValidationFailed
from workflow.risk import load_risk
from workflow.safeguards import evaluate
from workflow.services import documents
from workflow.services import partnerships as svc
from workflow.services.review import visible_comments
from workflow.services.transitions import advance

from ..db import get_db
from ..form_errors import attach_errors
from ..obligations import clocks_section
from ..review.forms import CommentForm
from ..routing import id_arg
from .forms import (
    CheckForm,
    DeclareNoneForm,
    EditPartnershipForm,
    PartnershipForm,
    PartyForm,
    TransitionForm,
)

bp = Blueprint("partnerships", __name__, url_prefix="/partnerships")


@bp.before_request
@login_required
def _require_login():
    """Every partnership page needs a logged-in user."""


@bp.get("/")
def index():
    db, args = get_db(), request.args
    filters = listing.Filters(
        stage=args.get("stage", ""), agreement_type=args.get("type", ""),
        country=args.get("country", "")[:2], tier=args.get("tier", ""),
        owner_id=args.get("owner", type=id_arg), q=args.get("q", "")[:100],
        sort=args.get("sort", "updated") if args.get("sort") in listing.SORTS else "updated")
    page = listing.search(db, current_user, filters, cursor=args.get("after") or None)
    return render_template(
        "partnerships/index.html", page=page, f=filters,
        stages=sorted({(s.name, s.label) for wf in registry().values() for s in wf.states}),
        countries=all_countries(), tiers=queries.risk_tiers(db),
        owners=listing.owners(db) if current_user.is_staff else [],
        types=AGREEMENT_TYPES, sorts=listing.SORTS)


def _org_choices(eu: bool):
    return [
        SelectChoice(o.id, f"{o.name} ({o.country})")
        for o in queries.organisations(get_db())
        if is_eu_eea(o.country) == eu
    ]


def _staff_only(doing: str) -> None:
    # These forms list every organisation: partners see only their own (as in the API).
    if not current_user.is_staff:
        abort(403, f"Only cluster staff {doing}.")


@bp.route("/new", methods=["GET", "POST"])
def create():
    _staff_only("create partnerships")
    form = PartnershipForm()
    form.lead_org.choices = _org_choices(eu=True)
    form.counterpart_org.choices = _org_choices(eu=False)
    if form.validate_on_submit():
        parties = [
            svc.PartyInput(form.lead_org.data, "lead"),
            svc.PartyInput(form.counterpart_org.data, "counterpart"),
        ]
        try:
            p = svc.create_partnership(
                get_db(), current_user, form.title.data, form.agreement_type.data, parties,
                sector=form.sector.data, start_date=form.start_date.data,
                end_date=form.end_date.data,
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash(f"{p.reference} created.", "success")
            return redirect(url_for(".detail", partnership_id=p.id))
    return render_template("partnerships/new.html", form=form), (422 if form.errors else 200)


@bp.route("/<int:partnership_id>/edit", methods=["GET", "POST"])
def edit(partnership_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    form = EditPartnershipForm(obj=p, expected_version=p.version)
    if form.validate_on_submit():
        try:
            svc.update_partnership(get_db(), current_user, p.id, form.title.data,
                                   form.sector.data, form.start_date.data, form.end_date.data,
                                   expected_version=form.expected_version.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash("Partnership saved.", "success")
            return redirect(url_for(".detail", partnership_id=p.id))
    return render_template("partnerships/edit.html", form=form, p=p), (
        422 if form.errors else 200)


@bp.route("/<int:partnership_id>/parties/new", methods=["GET", "POST"])
def add_party(partnership_id: int):
    p = queries.get_partnership(get_db(), current_user, partnership_id)
    _staff_only("add parties")
    form = PartyForm(expected_version=p.version)
    taken = {party.organisation_id for party in p.parties}
    form.organisation_id.choices = [SelectChoice(o.id, f"{o.name} ({o.country})")
                                    for o in queries.organisations(get_db()) if o.id not in taken]
    if form.validate_on_submit():
        data = svc.PartyInput(form.organisation_id.data, form.role.data, form.signatory_name.data,
                              form.signatory_title.data, form.signatory_email.data)
        try:
            svc.add_party(get_db(), current_user, p.id, data,
                          expected_version=form.expected_version.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash("Party added.", "success")
            return redirect(url_for(".detail", partnership_id=p.id) + "#parties")
    return render_template("partnerships/party.html", form=form, p=p, party=None), (
        422 if form.errors else 200)


@bp.get("/<int:partnership_id>")
def detail(partnership_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    risk = load_risk(db, p)
    results = evaluate(p, risk)
    return render_template(
        "partnerships/detail.html",
        p=p,
        workflow=get_workflow(p.workflow_key),
        options=available_transitions(p, current_user, risk_loader=lambda: risk),
        rows=clause_rows(p, results, risk.tiers_by_country),
        results=results,
        comments=visible_comments(db, current_user, p),
        docs=documents.documents(db, p.id),
        issued=(issued := documents.current_issued(db, p.id)),
        signatures=documents.signatures_for(db, issued) if issued else [],
        comment_form=CommentForm(visibility="internal"),
        events=queries.history(db, p.id),
        transition_form=TransitionForm(expected_version=p.version),
        check_form=CheckForm(expected_version=p.version),
        none_form=DeclareNoneForm(expected_version=p.version),
        **clocks_section(db, p),
    )


@bp.post("/<int:partnership_id>/transitions/<trigger>")
def transition(partnership_id: int, trigger: str):
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    # The User itself, not the proxy: advance() checks it inside its write (keep=).
    p = advance(
        get_db(), partnership_id, trigger, current_user._get_current_object(),
        comment=form.comment.data, expected_version=form.expected_version.data,
    )
    flash(f"{p.reference} is now in stage '{get_workflow(p.workflow_key).state(p.stage).label}'.",
          "success")
    return redirect(url_for(".detail", partnership_id=p.id))


@bp.route("/<int:partnership_id>/parties/<int:party_id>", methods=["GET", "POST"])
def edit_party(partnership_id: int, party_id: int):
    db = get_db()
    p = queries.get_partnership(db, current_user, partnership_id)
    party = next((x for x in p.parties if x.id == party_id), None)
    if party is None:
        abort(404)
    form = PartyForm(obj=party, expected_version=p.version)
    form.organisation_id.choices = [
        SelectChoice(party.organisation_id, party.organisation.name)
    ]
    if form.validate_on_submit():
        data = svc.PartyInput(
            party.organisation_id, form.role.data, form.signatory_name.data,
            form.signatory_title.data, form.signatory_email.data,
        )
        try:
            svc.update_party(db, current_user, partnership_id, party_id, data,
                             expected_version=form.expected_version.data)
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            flash("Party saved.", "success")
            return redirect(url_for(".detail", partnership_id=partnership_id) + "#parties")
    return render_template("partnerships/party.html", form=form, p=p, party=party), (
        422 if form.errors else 200
    )


@bp.post("/<int:partnership_id>/checks/<item_key>")
def set_check(partnership_id: int, item_key: str):
    form = CheckForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    svc.set_check(get_db(), current_user, partnership_id, item_key, form.done.data,
                  form.note.data, expected_version=form.expected_version.data)
    flash("Due-diligence item saved.", "success")
    return redirect(url_for(".detail", partnership_id=partnership_id) + "#due-diligence")


@bp.post("/<int:partnership_id>/parties/<int:party_id>/background-none")
def declare_none(partnership_id: int, party_id: int):
    form = DeclareNoneForm()
    if not form.validate_on_submit():
        abort(400, "The form was incomplete; reload the page and try again.")
    svc.declare_no_background_ip(get_db(), current_user, partnership_id, party_id,
                                 none=form.none.data, expected_version=form.expected_version.data)
    flash("Background-IP declaration saved.", "success")
    return redirect(url_for(".detail", partnership_id=partnership_id) + "#parties")

